import Foundation

/// A chat template (the Jinja2 source in a GGUF's `tokenizer.chat_template`), parsed once and rendered the way
/// transformers' `apply_chat_template` renders it.
///
/// transformers evaluates templates in an `ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)`
/// with the `loopcontrols` extension, its own `tojson` (`json.dumps` with `ensure_ascii=False`), and the globals
/// `raise_exception` and `strftime_now`. This interpreter implements the subset of Jinja2 chat templates use under
/// exactly those settings, so the rendered prompt matches byte for byte. What it does not implement (template
/// inheritance and includes, recursive loops, a few filters such as `groupby`) is an error naming the template
/// position, never a silently different prompt. Like transformers' sandbox, it refuses methods that mutate a list
/// or dictionary (`list.append`), which templates work around with `namespace()`.
///
/// Known differences from Python, none of which affect a prompt a real template builds: tuples print as lists
/// (`[1, 2]`, not `(1, 2)`), `dict.items()` prints as a list, the printed form of a generator has no address,
/// integers are 64-bit (an overflow is an error), and a render stops with an error after 10 million loop iterations
/// or 256 MiB of output.
public struct ChatTemplate: Sendable {
    /// The template source as given.
    public let source: String
    private let nodes: [TemplateNode]

    /// Where `strftime_now` reads the time. Defaults to the system clock, like transformers' `datetime.now()`.
    public var now: @Sendable () -> Date = { Date() }
    /// The time zone `strftime_now` formats in (local time, as in Python).
    public var timeZone = TimeZone.current

    /// Parses `source`.
    /// - Throws: `ChatTemplateError` (kind `.syntax`) with the line and column of the first problem.
    public init(source: String) throws {
        self.source = source
        nodes = try TemplateParser.parse(source)
    }

    /// Renders a conversation of plain role/content messages.
    ///
    /// The context is what `apply_chat_template` passes: `messages`, `add_generation_prompt`, `bos_token`,
    /// `eos_token`, and `tools` and `documents` as `None`; `extra` adds or overrides variables (`tools`,
    /// `date_string`, `enable_thinking`, ...).
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String, eosToken: String,
                       extra: [String: TemplateValue] = [:]) throws -> String {
        try render(conversation: messages.map(\.templateValue), addGenerationPrompt: addGenerationPrompt,
                   bosToken: bosToken, eosToken: eosToken, extra: extra)
    }

    /// Renders messages given as template values, so they can carry any fields (`tool_calls`, `name`, ...).
    public func render(conversation: [TemplateValue], addGenerationPrompt: Bool, bosToken: String, eosToken: String,
                       extra: [String: TemplateValue] = [:]) throws -> String {
        var context: [String: TemplateValue] = [
            "messages": .array(conversation),
            "add_generation_prompt": .bool(addGenerationPrompt),
            "bos_token": .string(bosToken),
            "eos_token": .string(eosToken),
            "tools": .none,
            "documents": .none,
        ]
        context.merge(extra) { _, new in new }
        return try render(context: context)
    }

    /// Renders with an arbitrary set of top-level variables.
    /// - Throws: `ChatTemplateError` (kind `.runtime` or `.raised`) naming the failing position.
    public func render(context: [String: TemplateValue]) throws -> String {
        var interpreter = TemplateInterpreter(context: context, clock: TemplateClock(now: now, timeZone: timeZone))
        var output = ""
        _ = try interpreter.execute(nodes, into: &output)
        return output
    }
}
