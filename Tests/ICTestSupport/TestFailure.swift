/// A test precondition that did not hold (thrown where `#require` cannot say enough).
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
