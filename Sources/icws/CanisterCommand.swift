import ArgumentParser
import CanisterToolchain
import Foundation
import ICAgent
import ICCore

/// `icws canister`: build the repository's Embedded Swift canisters, deploy a module to a
/// replica, call a canister with Candid text.
struct CanisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "canister",
        abstract: "Build, deploy and call IC canisters.",
        subcommands: [Build.self, Deploy.self, Call.self]
    )

    /// Where and as whom to talk to the IC (shared by `deploy` and `call`).
    struct Connection: ParsableArguments {
        @Option(help: "Replica or boundary node URL. Loopback URLs trust the root key the replica serves; others use the mainnet key.")
        var replica = "http://127.0.0.1:4943"

        @Option(help: "PEM file of the identity to sign with (Ed25519, secp256k1 or P-256, as dfx writes them). Default: anonymous.")
        var identity: String?

        func agent() throws -> HTTPAgent {
            var signer: any Identity = AnonymousIdentity()
            if let identity {
                do { signer = try IdentityPEM.load(contentsOf: URL(fileURLWithPath: identity)) } catch {
                    throw ValidationError("cannot load --identity \(identity): \(error)")
                }
            }
            guard let url = URL(string: replica), let host = url.host else {
                throw ValidationError("--replica \(replica) is not a URL like http://127.0.0.1:4943")
            }
            let isLocal = host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]"
            return HTTPAgent(configuration: .init(url: replica, rootKey: isLocal ? .fetchFromReplica : .mainnet), identity: signer)
        }
    }

    // MARK: build

    struct Build: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build the repository's canisters to Wasm (Canisters/.build/wasm/<name>.wasm); unchanged ones are reused.",
            discussion: """
                Beside each module it writes <name>.did (its Candid interface, also embedded in the module as the \
                icp:public candid:service section) and <name>.wasm.gz (the module gzipped), which a dfx.json \
                canister of type "custom" names as "candid" and "wasm" (examples/dfx/dfx.json).
                """)

        @Argument(help: "Canisters to build (default: all). Known: \(CanisterBuilder.knownCanisters.joined(separator: ", ")).")
        var names: [String] = []

        @Flag(help: "Build even when the modules are up to date.")
        var force = false

        func run() throws {
            let builder = try CanisterCommand.locateBuilder()
            try builder.build(names, force: force) { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            for name in names.isEmpty ? CanisterBuilder.knownCanisters : names {
                for url in [builder.modulePath(name), builder.gzippedModulePath(name), builder.candidPath(name)] {
                    let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
                    print("\(name)\t\(size) bytes\t\(url.path)")
                }
            }
        }
    }

    // MARK: deploy

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a canister and install a module into it (or reinstall/upgrade one); prints the canister id.")

        @Argument(help: "A .wasm (or gzipped .wasm.gz) file, or the name of one of the repository's canisters (built if needed).")
        var module: String

        @Option(help: "The init argument as Candid bytes in hex (DIDL…).")
        var arg: String?

        @Option(name: .customLong("arg-text"), help: "The init argument as Candid text, e.g. '(10 : nat64, 300_000 : nat64)'.")
        var argText: String?

        @Option(help: "An existing canister to reinstall or upgrade instead of creating a new one.")
        var canister: String?

        @Option(help: "install, reinstall or upgrade (the last two need --canister).")
        var mode = "install"

        @Option(
            help: "Any canister id of the target subnet, to route provisional_create_canister_with_cycles (default: the first local id).")
        var effectiveCanisterID: String?

        @OptionGroup var connection: Connection

        func validate() throws {
            if arg != nil && argText != nil { throw ValidationError("give the init argument once: --arg or --arg-text") }
            guard let parsed = ManagementCanister.InstallMode(rawValue: mode) else {
                throw ValidationError("--mode must be install, reinstall or upgrade")
            }
            if parsed != .install && canister == nil { throw ValidationError("--mode \(mode) needs --canister <id>") }
        }

        func run() async throws {
            let wasm = try loadModule()
            let argument = try CanisterCommand.candidArgument(hex: arg, text: argText)
            let management = ManagementCanister(agent: try connection.agent())
            let id: Principal
            if let canister {
                id = try CanisterCommand.principal(canister, what: "--canister")
                try await management.installCode(
                    canister: id, module: wasm, arg: argument,
                    mode: ManagementCanister.InstallMode(rawValue: mode) ?? .install)
            } else {
                let effective =
                    try effectiveCanisterID.map { try CanisterCommand.principal($0, what: "--effective-canister-id") }
                    ?? Principal.canister(index: 0)
                id = try await management.deploy(module: wasm, arg: argument, effectiveCanisterID: effective)
            }
            print(id)
        }

        private func loadModule() throws -> [UInt8] {
            if CanisterBuilder.knownCanisters.contains(module) && !FileManager.default.fileExists(atPath: module) {
                let builder = try CanisterCommand.locateBuilder()
                return try builder.module(module) { line in FileHandle.standardError.write(Data((line + "\n").utf8)) }
            }
            guard let data = FileManager.default.contents(atPath: module) else {
                throw ValidationError(
                    "cannot read \(module): give a .wasm file or one of \(CanisterBuilder.knownCanisters.joined(separator: ", "))")
            }
            return [UInt8](data)
        }
    }

    // MARK: call

    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Call a canister method with Candid text arguments and print the reply as Candid text.",
            discussion: """
                Argument types are inferred from the text: annotate numbers with their exact type, e.g.
                icws canister call <id> ws_get_messages '(record { nonce = 0 : nat64 })' --query
                Field names of the IC WebSocket interface are printed by name; add others with --names.
                """)

        @Argument(help: "The canister id.")
        var canister: String

        @Argument(help: "The method name.")
        var method: String

        @Argument(help: "The arguments as Candid text, e.g. '(\"hello\", 5 : nat64)' (default: none).")
        var arguments = "()"

        @Flag(help: "Make a query instead of an update call.")
        var query = false

        @Option(help: "The arguments as Candid bytes in hex instead of text.")
        var argHex: String?

        @Option(help: "Comma-separated record field / variant names to print by name.")
        var names: String?

        @Flag(help: "Print the reply's Candid bytes in hex instead of text.")
        var raw = false

        @Flag(help: "Print records and vectors over several lines.")
        var multiline = false

        @OptionGroup var connection: Connection

        func run() async throws {
            let id = try CanisterCommand.principal(canister, what: "the canister id")
            let argument = try CanisterCommand.candidArgument(hex: argHex, text: argHex == nil ? arguments : nil)
            let agent = try connection.agent()
            let reply =
                query
                ? try await agent.query(canister: id, method: method, arg: argument)
                : try await agent.call(canister: id, method: method, arg: argument)
            if raw {
                print(Hex.encode(reply))
                return
            }
            var fieldNames = CandidFieldNames(CanisterCommand.knownFieldNames)
            if let names { fieldNames.merge(CandidFieldNames(names.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })) }
            do {
                print(CandidValue.candidText(arguments: try Candid.decodeValues(from: reply), names: fieldNames, multiline: multiline))
            } catch {
                throw ValidationError("the reply is not valid Candid (\(error)); its bytes: \(Hex.encode(reply))")
            }
        }
    }

    // MARK: Helpers

    /// Field names of the IC WebSocket interface (protocol §3) and the repository's canisters.
    static let knownFieldNames = [
        "Ok", "Err", "messages", "cert", "tree", "is_end_of_queue", "client_key", "key", "content", "client_principal",
        "client_nonce", "sequence_num", "timestamp", "is_service_message", "msg", "nonce", "gateway_principal", "text", "from",
        "canister_id", "OpenMessage", "AckMessage", "KeepAliveMessage", "CloseMessage", "last_incoming_sequence_num", "reason",
        "WrongSequenceNumber", "InvalidServiceMessage", "KeepAliveTimeout", "ClosedByApplication",
    ]

    static func locateBuilder() throws -> CanisterBuilder {
        guard let builder = CanisterBuilder.locate() else {
            throw ValidationError(
                "run this inside the icws repository: Canisters/Package.swift and scripts/build-canisters.sh were not found above \(FileManager.default.currentDirectoryPath)"
            )
        }
        return builder
    }

    static func principal(_ text: String, what: String) throws -> Principal {
        do { return try Principal(text: text) } catch { throw ValidationError("\(what) '\(text)' is not a principal: \(error)") }
    }

    /// Candid bytes from hex or from text (types inferred); `DIDL\0\0` when neither is given.
    static func candidArgument(hex: String?, text: String?) throws -> [UInt8] {
        if let hex {
            guard let bytes = try? Hex.decode(hex) else { throw ValidationError("the argument is not hex: \(hex)") }
            return bytes
        }
        guard let text else { return Candid.encode() }
        do {
            let values = try CandidTextParser.parseArguments(text)
            return try CandidEncoder.encode(values, types: values.map(CandidType.inferred(from:)))
        } catch {
            throw ValidationError("cannot encode the Candid text \(text): \(error)")
        }
    }
}
