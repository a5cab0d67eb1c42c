import ArgumentParser

/// The icws command line: one subcommand per file in this directory.
@main
struct ICWS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "icws",
        abstract: "WebSockets for the Internet Computer, in Swift.",
        subcommands: [ReplicaCommand.self, GatewayCommand.self, ConnectCommand.self]
    )
}
