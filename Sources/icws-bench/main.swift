// icws-bench: micro-benchmarks, one JSON line per operation.
//
//   swift run -c release icws-bench <suite> [iterations]
//
// Suites: core, bls, agent, replica, gateway [sessions] [idle], gateway-idle [connections], gateway-relay [sessions] [messages] [batch],
// gateway-burst [clients] [messages] [--ic-delay-ms D],
// client, canister, browser, soak, soak-resume. (Build in release: debug figures are meaningless.)

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

let arguments = CommandLine.arguments.dropFirst()
let suite = arguments.first ?? "help"
let iterations = arguments.dropFirst().first.flatMap { Int($0) } ?? 50
let harness = BenchmarkHarness(iterations: iterations)

switch suite {
case "bls":
    BLSBenchmarks.run(harness)
case "agent":
    AgentBenchmarks.run(harness)
case "core":
    CoreBenchmarks.run(harness)
case "replica":
    await ReplicaBenchmarks.run(harness)
case "gateway":
    await GatewayBenchmarks.run(
        clients: arguments.dropFirst().first.flatMap { Int($0) } ?? 1000,
        idle: arguments.dropFirst(2).first.flatMap { Int($0) } ?? 0)
case "gateway-idle":
    await GatewayIdleBenchmark.run(connections: arguments.dropFirst().first.flatMap { Int($0) } ?? 10_000)
case "serve-websocket-floor":
    // A child process of gateway-idle.
    guard let stack = arguments.dropFirst().first.flatMap(WebSocketFloorServer.Stack.init(rawValue:)),
        let port = arguments.dropFirst(2).first.flatMap({ Int($0) })
    else { exit(2) }
    try await WebSocketFloorServer.serve(stack, port: port)
case "gateway-relay":
    await GatewayRelayBenchmark.run(arguments: Array(arguments.dropFirst()))
case "gateway-burst":
    await GatewayBurstBenchmark.run(arguments: Array(arguments.dropFirst()))
case "client":
    ClientBenchmarks.run(harness)
case "canister":
    await CanisterBenchmarks.run(harness)
case "browser":
    await BrowserBenchmarks.run(harness)
case "soak":
    let values = arguments.dropFirst().compactMap { Double($0) }
    await SoakBenchmark.run(
        clients: values.first.map { Int($0) } ?? 200, seconds: values.dropFirst().first.map { Int($0) } ?? 60,
        rate: values.dropFirst(2).first ?? 4)
case "soak-resume":
    await ResumeSoakBenchmark.run(arguments: Array(arguments.dropFirst()))
default:
    print(
        """
        usage: icws-bench <suite> [iterations]
        suites: core, bls, agent, replica, gateway [sessions] [idle], client, canister, browser, soak [clients seconds rate],
            soak-resume [clients=100] [seconds=300] [rate=4] [fault-every=10]  (resumable sessions, a fault every few seconds)
            gateway-idle [connections=10000]  (idle WebSockets held by icws gateway and by bare NIO / Hummingbird servers)
            gateway-relay [sessions=100,1000] [messages=200000] [batch=100,1000]  (lists are comma-separated; every pair is measured)
            gateway-burst [clients=1] [messages=1000] [--ic-delay-ms 1500] [icws gateway flags…]  (SDK clients sending all at once)
        """)
    if suite != "help" && suite != "--help" { exit(2) }
}
