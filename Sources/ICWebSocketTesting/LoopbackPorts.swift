import NIOCore
import NIOPosix

/// Ports for child processes that take fixed port numbers (`icws dev`): each was free a moment
/// ago (bound to port 0 and released), so a clash needs another process to take it in between.
public enum LoopbackPorts {
    public static func unused(_ count: Int) async throws -> [Int] {
        var channels: [any Channel] = []
        defer { for channel in channels { channel.close(promise: nil) } }
        for _ in 0..<count {
            // Held open until all are chosen, so the ports differ.
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: "127.0.0.1", port: 0).get()
            channels.append(channel)
        }
        return channels.compactMap { $0.localAddress?.port }
    }
}
