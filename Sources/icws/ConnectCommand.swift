import ArgumentParser
import Foundation
import ICAgent
import ICCore
import ICWebSocketClient
import ICWebSocketProtocol
import Logging
import NIOConcurrencyHelpers

/// `icws connect`: an interactive terminal client for the chat and ping-pong canisters. Every
/// line typed is sent as one message; every verified message is printed as it arrives.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Talk to a canister through an IC WebSocket gateway (messages are verified before they are shown).",
        discussion: """
            Type a line and press return to send it. Ctrl-D closes the connection. Messages go to standard \
            output one line each, as they arrive (also through a pipe); status lines go to standard error.
            The message format is read from the canister's Candid interface (its certified candid:service \
            metadata: the type of ws_message's second parameter):
              chat: record { from : text; text : text } (the chat canister)
              text: record { text : text } (the ping-pong and test canisters)
            --message-format overrides it; auto sends record { text : text } and shows messages with or \
            without a `from` field (the choice when the canister publishes no interface).
            Each sent message's outcome is read from the IC (one read_state per message); a refused \
            message prints "! the canister refused your message: <reason>" on standard error.
            When the connection drops, the session is resumed (same client key; nothing lost or \
            repeated either way) through the next gateway URL given, or the same one; a canister or \
            gateway that cannot resume gets a new session, and the messages that may be lost are named.
            """
    )

    enum MessageFormat: String, ExpressibleByArgument, CaseIterable {
        case auto, chat, text
    }

    @Argument(
        help: ArgumentHelp(
            "Gateway WebSocket URL, e.g. ws://127.0.0.1:8080; several for failover (tried in turn).", valueName: "gateway-url"))
    var gatewayURLs: [String]

    @Option(help: "Canister id (text form).")
    var canister: String

    @Option(
        help:
            "URL of the IC or local replica: its root key (with --fetch-root-key), the canister's Candid interface and the outcomes of sent messages are read there."
    )
    var icURL = "http://127.0.0.1:4943"

    @Option(help: "Identity PEM file (as dfx writes). Default: a fresh Ed25519 identity for this session.")
    var identity: String?

    @Flag(help: "Trust the root key served by --ic-url (local replicas only). Without it the mainnet key is used.")
    var fetchRootKey = false

    @Option(help: "Root key as DER hex (as printed by `icws replica`), instead of fetching it.")
    var rootKey: String?

    @Option(help: "Application message type: auto, chat or text. Default: read from the canister's Candid interface, else auto.")
    var messageFormat: MessageFormat?

    @Flag(help: "Do not read each sent message's outcome from the IC (saves one read_state per message; refusals go unseen).")
    var noOutcomeChecks = false

    /// Messages whose outcome is still being read, at most (piped input waits beyond it).
    static let outcomeWindow = 64

    @Option(help: "The canister's ack interval in seconds (its send_ack_interval_ms / 1000).")
    var ackInterval = 300

    @Option(help: "Reconnect attempts after a dropped connection before giving up (0: exit when it drops).")
    var reconnectAttempts = 10

    @Flag(help: "After a dropped connection open a new session instead of resuming this one (the reference client's way).")
    var noResume = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "warning"

    func validate() throws {
        if fetchRootKey, rootKey != nil { throw ValidationError("use either --fetch-root-key or --root-key, not both") }
        if ackInterval <= 0 { throw ValidationError("--ack-interval must be positive") }
        if reconnectAttempts < 0 { throw ValidationError("--reconnect-attempts must not be negative") }
        if gatewayURLs.isEmpty { throw ValidationError("give at least one gateway URL") }
    }

    func run() async throws {
        guard let canisterID = try? Principal(text: canister) else {
            throw ValidationError("--canister '\(canister)' is not a principal")
        }
        var logger = Logger(label: "icws.connect")
        guard let level = Logger.Level(rawValue: logLevel) else { throw ValidationError("unknown log level '\(logLevel)'") }
        logger.logLevel = level
        let signer: any Identity
        if let identity {
            signer = try IdentityPEM.load(contentsOf: URL(fileURLWithPath: identity))
        } else {
            signer = Ed25519Identity()
        }
        let network: ICNetwork
        if let rootKey {
            guard let der = try? Hex.decode(rootKey), let key = try? RootKey(der: der) else {
                throw ValidationError("--root-key must be the DER (or raw 96-byte) BLS key in hex")
            }
            network = .local(icURL, rootKey: key)
        } else if fetchRootKey {
            // Fetched once, here: the interface read and the connection both need it, and
            // without it nothing can be verified, so a replica that is not running ends the
            // command at once.
            do {
                network = .local(icURL, rootKey: try await ICNetwork.local(icURL, fetchRootKey: true).resolveRootKey())
            } catch {
                status("error: \(error) (is a replica running at \(icURL)?)")
                throw ExitCode.failure
            }
        } else {
            network = ICNetwork(url: icURL, rootKey: .mainnet)
        }
        let configuration = ICWebSocketClientConfiguration(
            ackMessageInterval: .seconds(ackInterval),
            reconnect: ReconnectPolicy(
                maxAttempts: reconnectAttempts, initialDelay: .milliseconds(500), maximumDelay: .seconds(8),
                resumesSession: !noResume),
            // Accepted outcomes too: at the end of the input, `connect` waits for every message's.
            callOutcomeChecks: noOutcomeChecks ? nil : CallOutcomeChecks(maxOutstanding: Self.outcomeWindow, reportsAccepted: true))
        let format = try await resolvedMessageFormat(canisterID, network)
        status("connecting to \(gatewayURLs[0]) for canister \(canisterID) as \(signer.principal)")
        switch format {
        case .auto:
            try await session(AnyTextLine.self, canisterID, signer, network, configuration, logger)
        case .chat:
            try await session(ChatLine.self, canisterID, signer, network, configuration, logger)
        case .text:
            try await session(TextLine.self, canisterID, signer, network, configuration, logger)
        }
    }

    /// `--message-format`, else the format the canister's Candid interface names, else `auto`
    /// with a line saying so (no metadata, or a replica that does not serve it).
    private func resolvedMessageFormat(_ canisterID: Principal, _ network: ICNetwork) async throws -> MessageFormat {
        if let messageFormat { return messageFormat }
        let interface: String?
        do {
            interface = try await CanisterAppMessageType.fetchCandidInterface(canister: canisterID, network: network)
        } catch {
            status(
                "could not read the canister's Candid interface (\(error)); using --message-format auto "
                    + "(sends record { text : text }); pass --message-format chat or text to choose")
            return .auto
        }
        guard let interface else {
            status(
                "the canister has no candid:service metadata; using --message-format auto "
                    + "(sends record { text : text }); pass --message-format chat or text to choose")
            return .auto
        }
        let type: CanisterAppMessageType
        do { type = try CanisterAppMessageType(candidInterface: interface) } catch {
            status("error: cannot find the message type in the canister's Candid interface: \(error); pass --message-format chat or text")
            throw ExitCode.failure
        }
        guard let format = MessageFormat(for: type) else {
            status(
                "error: the canister's message type is \(type.candidText), which icws connect cannot type; "
                    + "it knows chat (record { from : text; text : text }) and text (record { text : text }); "
                    + "pass --message-format to force one")
            throw ExitCode.failure
        }
        status("message format \(format.rawValue) (from the canister's Candid interface: \(type.candidText))")
        return format
    }

    private func session<Line: TerminalMessage>(
        _ type: Line.Type, _ canisterID: Principal, _ identity: any Identity, _ network: ICNetwork,
        _ configuration: ICWebSocketClientConfiguration, _ logger: Logger
    ) async throws {
        let connection: ICWebSocketConnection<Line>
        do {
            connection = try await ICWebSocketConnection.connect(
                gatewayURLs: gatewayURLs, canister: canisterID, identity: identity, network: network,
                messageType: Line.self, configuration: configuration, logger: logger)
        } catch {
            status("error: \(error)")
            throw ExitCode.failure
        }
        status("open: client key \(connection.clientKey); type a line to send it, Ctrl-D to quit")
        // Outcomes arrive independently of messages; the task ends when the connection closes.
        let settled = NIOLockedValueBox(0)
        let outcomes = Task {
            for await outcome in connection.callOutcomes {
                notice(outcome)
                settled.withLockedValue { $0 += 1 }
            }
        }
        defer { outcomes.cancel() }
        // Drops, resumes and new sessions, as they happen.
        let states = Task {
            var reopening = false
            for await state in connection.states { report(state, reopening: &reopening) }
        }
        defer { states.cancel() }
        let checksOutcomes = !noOutcomeChecks
        let failed = await withTaskGroup(of: Bool.self) { group -> Bool in
            group.addTask {
                do {
                    // Unbuffered, so that each message shows at once even when stdout is a pipe.
                    for try await message in connection.messages { say(message.terminalText) }
                    status("closed")
                    return false
                } catch {
                    status("closed: \(error)")
                    return true
                }
            }
            group.addTask {
                var sent = 0
                for await line in StandardInputLines.stream() where !line.isEmpty {
                    // At most `outcomeWindow` messages without a known outcome: beyond it the
                    // client would stop checking (and report them unknown) instead of waiting.
                    while checksOutcomes, sent - settled.withLockedValue({ $0 }) >= Self.outcomeWindow {
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                    do {
                        try await connection.send(Line(typed: line))
                        sent += 1
                    } catch {
                        status("send failed: \(error)")
                        if case ICWebSocketClientError.closed = error { break }
                    }
                }
                // End of input (Ctrl-D, or the end of a pipe). Closing now would make the gateway
                // drop what it has not relayed yet and the canister forget the client before the
                // rest executes: wait until the IC has a result for every message sent.
                if checksOutcomes {
                    await waitUntilSettled(sent, settled)
                } else if sent > 0 {
                    status("closing without waiting for \(sent) messages to execute (--no-outcome-checks): the last ones may be lost")
                }
                await connection.close()
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            await connection.close()
            return first
        }
        if failed { throw ExitCode.failure }
    }
}

/// A message type the terminal client can build from a typed line and print.
protocol TerminalMessage: CandidCodable, Sendable {
    init(typed line: String)
    var terminalText: String { get }
}

/// The chat canister's `record { from : text; text : text }` (the canister fills in `from`).
struct ChatLine: TerminalMessage {
    var from: String
    var text: String
    init(typed line: String) { from = ""; text = line }
    var terminalText: String { "\(from): \(text)" }
    static var candidType: CandidType { .record([.field("from", String.self), .field("text", String.self)]) }
    func candidValue() -> CandidValue { .record(sorting: [.field("from", from), .field("text", text)]) }
    init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        from = try record.field("from")
        text = try record.field("text")
    }
}

/// Either shape: `record { from : opt text; text : text }` reads the chat canister's messages and
/// those of the ping-pong and test canisters alike (a missing `from` is null), and what it sends
/// (`from = null`) is taken by every canister that expects `record { text : text }`.
struct AnyTextLine: TerminalMessage {
    var from: String?
    var text: String
    init(typed line: String) { from = nil; text = line }
    var terminalText: String { from.map { "\($0): \(text)" } ?? text }
    static var candidType: CandidType { .record([.field("from", String?.self), .field("text", String.self)]) }
    func candidValue() -> CandidValue { .record(sorting: [.field("from", from), .field("text", text)]) }
    init(candid value: CandidValue) throws(CandidError) {
        let record = try value.record()
        from = try record.field("from")
        text = try record.field("text")
    }
}

/// The ping-pong and test canisters' `record { text : text }`.
struct TextLine: TerminalMessage {
    var text: String
    init(typed line: String) { text = line }
    var terminalText: String { text }
    static var candidType: CandidType { .record([.field("text", String.self)]) }
    func candidValue() -> CandidValue { .record([.field("text", text)]) }
    init(candid value: CandidValue) throws(CandidError) { text = try value.record().field("text") }
}

extension ConnectCommand.MessageFormat {
    /// The format whose Candid type is `type` (field order and quoting aside).
    init?(for type: CanisterAppMessageType) {
        guard case .record(let fields) = type, fields.allSatisfy({ $0.type == "text" }) else { return nil }
        switch Set(fields.map(\.name)) {
        case ["from", "text"] where fields.count == 2: self = .chat
        case ["text"] where fields.count == 1: self = .text
        default: return nil
        }
    }
}

extension CanisterAppMessageType {
    /// Candid text of the type, for messages.
    var candidText: String {
        switch self {
        case .record(let fields): return "record { " + fields.map { "\($0.name) : \($0.type)" }.joined(separator: "; ") + " }"
        case .other(let text): return text
        }
    }
}

/// A line on standard error for an outcome that needs the user's attention.
private func notice(_ outcome: ICWebSocketCallOutcome) {
    let text: String
    switch outcome {
    case .accepted: return
    case .refused(_, let reason): text = "the canister refused your message: \(reason)"
    case .rejected(let number, let reject): text = "message #\(number) was rejected: \(reject)"
    case .unknown(let number, let reason): text = "could not confirm message #\(number): \(reason)"
    }
    FileHandle.standardError.write(Data("! \(text)\n".utf8))
}

/// A status line for a connection state worth telling (the first open is told by `session`).
private func report(_ state: ICWebSocketConnectionState, reopening: inout Bool) {
    switch state {
    case .resuming(let attempt, let cause, let url):
        status("connection lost (\(cause)); resuming the session through \(url) (attempt \(attempt))")
    case .resumed(let key, let gateway, let resent):
        status("session resumed through gateway \(gateway) (client key \(key)); \(resent) of your messages sent again")
    case .reconnecting(let attempt, let cause, let unacknowledged):
        let lost =
            unacknowledged.isEmpty
            ? "" : "; messages that may be lost: #\(unacknowledged.map { "\($0.sequenceNumber)" }.joined(separator: ", #"))"
        status("connection lost (\(cause)); opening a new session (attempt \(attempt))\(lost)")
        reopening = true
    case .open(let key, _) where reopening:
        status("open again: new session, client key \(key)")
        reopening = false
    case .open:
        break
    case .connecting, .closed:
        break
    }
}

/// Waits until `settled` counts `sent` outcomes, saying so when it takes a while; gives up after
/// the ingress expiry (by then every check has ended with an outcome, `unknown` at worst).
private func waitUntilSettled(_ sent: Int, _ settled: NIOLockedValueBox<Int>) async {
    let clock = ContinuousClock()
    let start = clock.now
    var announced = false
    while settled.withLockedValue({ $0 }) < sent, clock.now - start < .seconds(330) {
        if !announced, clock.now - start > .seconds(2) {
            status("end of input: waiting for the IC to execute \(sent - settled.withLockedValue { $0 }) more messages…")
            announced = true
        }
        try? await Task.sleep(for: .milliseconds(50))
    }
}

/// Status lines go to standard error so that standard output holds only messages.
private func status(_ text: String) {
    FileHandle.standardError.write(Data("[icws] \(text)\n".utf8))
}

/// Lines typed on standard input, read on a thread of their own (reading blocks).
enum StandardInputLines {
    static func stream() -> AsyncStream<String> {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingOldest(256))
        let thread = Thread {
            while let line = readLine(strippingNewline: true) { continuation.yield(line) }
            continuation.finish()
        }
        thread.start()
        return stream
    }
}
