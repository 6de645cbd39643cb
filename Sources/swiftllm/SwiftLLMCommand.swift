import ArgumentParser

@main
struct SwiftLLMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftllm",
        abstract: "Run GGUF language models on the CPU, and measure them.",
        discussion: """
        -m/--model takes a GGUF path or a known alias (\(knownAliases)); without -m the default \
        model (smollm2-135m) is used and fetched on first use into $SWIFTLLM_CACHE (~/.cache/swiftllm).
        """,
        subcommands: [ServeCommand.self, GenerateCommand.self, ChatCommand.self, TemplateCommand.self, TokenizeCommand.self, InspectCommand.self, PullCommand.self, BenchCommand.self]
    )
}
