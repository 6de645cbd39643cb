/// Why a chat template could not be parsed or rendered.
///
/// One line, naming the template position: "chat template error at line 3, column 14: unknown filter 'foo'".
/// A template's own `raise_exception('msg')` reads "chat template raised: msg", since that message is the
/// template author's words about the conversation, not a fault in the template.
public struct ChatTemplateError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        /// The source is not valid template syntax (found by `ChatTemplate(source:)`).
        case syntax
        /// Evaluation failed: a type error, an undefined value used, an unsupported feature.
        case runtime
        /// The template called `raise_exception(message)`.
        case raised
    }

    public let kind: Kind
    /// 1-based line of the offending construct in the template source.
    public let line: Int
    /// 1-based column (in Unicode scalars) of the offending construct.
    public let column: Int
    /// What went wrong, without the position prefix.
    public let message: String

    public init(kind: Kind, line: Int, column: Int, message: String) {
        self.kind = kind
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String {
        switch kind {
        case .raised: return "chat template raised: \(message)"
        case .syntax, .runtime: return "chat template error at line \(line), column \(column): \(message)"
        }
    }
}

/// A line and column in the template source, carried by every token and syntax node for error messages.
struct TemplateSourcePosition: Sendable, Equatable {
    var line: Int
    var column: Int

    static let start = TemplateSourcePosition(line: 1, column: 1)
}

/// An evaluation failure before it is tied to a position; the interpreter attaches the node's position.
struct TemplateFailure: Error {
    var message: String
    var raised = false

    init(_ message: String) { self.message = message }
}
