/// One turn of a conversation, as `apply_chat_template` receives it: `{"role": ..., "content": ...}`.
///
/// Templates see a message as a dictionary (`message['role']`, `message.content`). Messages with more fields
/// (`tool_calls`, `name`, `tool_call_id`) are passed as `TemplateValue` dictionaries to
/// `ChatTemplate.render(conversation:...)`.
public struct ChatMessage: Sendable, Codable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    /// The message as the template sees it: a dictionary with `role` then `content`.
    public var templateValue: TemplateValue {
        .dictionary(TemplateDictionary([("role", .string(role)), ("content", .string(content))]))
    }
}
