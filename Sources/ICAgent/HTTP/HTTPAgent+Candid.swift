import ICCore

/// Typed calls: Candid arguments in, decoded Candid replies out.
///
/// ```swift
/// let count = try await agent.call(counter, "increment", 5 as UInt64, returning: UInt64.self)
/// let name = try await agent.query(ledger, "name", returning: String.self)
/// let values = try await agent.callValues(canister, "ws_message", arguments: try Candid.encode(args, CandidNull()))
/// ```
extension HTTPAgent {
    /// An update call with one typed argument, decoding the reply as `Result`.
    public func call<Argument: CandidEncodable, Result: CandidDecodable>(
        _ canister: Principal, _ method: String, _ argument: Argument, returning: Result.Type
    ) async throws(AgentError) -> Result {
        try await call(
            canister, method, arguments: try Self.encode { () throws(CandidError) in try Candid.encode(argument) }, returning: returning)
    }

    /// An update call with pre-encoded arguments (`Candid.encode(a, b, …)`), decoding the reply as `Result`.
    public func call<Result: CandidDecodable>(
        _ canister: Principal, _ method: String, arguments: [UInt8] = Candid.encode(), returning: Result.Type
    ) async throws(AgentError) -> Result {
        try Self.decode(Result.self, from: try await call(canister: canister, method: method, arg: arguments))
    }

    /// An update call returning the reply's values at their wire types.
    public func callValues(
        _ canister: Principal, _ method: String, arguments: [UInt8] = Candid.encode()
    ) async throws(AgentError) -> [CandidValue] {
        try Self.decodeValues(try await call(canister: canister, method: method, arg: arguments))
    }

    /// A query with one typed argument, decoding the reply as `Result`.
    public func query<Argument: CandidEncodable, Result: CandidDecodable>(
        _ canister: Principal, _ method: String, _ argument: Argument, returning: Result.Type
    ) async throws(AgentError) -> Result {
        try await query(
            canister, method, arguments: try Self.encode { () throws(CandidError) in try Candid.encode(argument) }, returning: returning)
    }

    /// A query with pre-encoded arguments, decoding the reply as `Result`.
    public func query<Result: CandidDecodable>(
        _ canister: Principal, _ method: String, arguments: [UInt8] = Candid.encode(), returning: Result.Type
    ) async throws(AgentError) -> Result {
        try Self.decode(Result.self, from: try await query(canister: canister, method: method, arg: arguments))
    }

    /// A query returning the reply's values at their wire types.
    public func queryValues(
        _ canister: Principal, _ method: String, arguments: [UInt8] = Candid.encode()
    ) async throws(AgentError) -> [CandidValue] {
        try Self.decodeValues(try await query(canister: canister, method: method, arg: arguments))
    }

    private static func encode(_ body: () throws(CandidError) -> [UInt8]) throws(AgentError) -> [UInt8] {
        do { return try body() } catch { throw .replyDecoding("cannot encode the arguments: \(error)") }
    }

    private static func decode<Result: CandidDecodable>(_ type: Result.Type, from reply: [UInt8]) throws(AgentError) -> Result {
        do { return try Candid.decode(Result.self, from: reply) } catch {
            throw .replyDecoding("reply is not a \(Result.candidType): \(error)")
        }
    }

    private static func decodeValues(_ reply: [UInt8]) throws(AgentError) -> [CandidValue] {
        do { return try Candid.decodeValues(from: reply) } catch { throw .replyDecoding("reply is not valid Candid: \(error)") }
    }
}
