"""Hard tokenizer test strings shared by the fixture generators."""

PYTHON_CODE = (
    "def fib(n):\n"
    "    \"\"\"Return the n-th Fibonacci number.\"\"\"\n"
    "    a, b = 0, 1\n"
    "    for _ in range(n):\n"
    "        a, b = b, a + b\n"
    "    return a\n"
    "\n"
    "if __name__ == '__main__':\n"
    "\tprint(fib(10))  # tab-indented\n"
)

C_CODE = (
    "#include <stdio.h>\n"
    "\n"
    "int main(void) {\n"
    "\tint x = 42;\n"
    "\tif (x > 0) {\n"
    "\t\tprintf(\"%d\\n\", x);\n"
    "\t}\n"
    "    return 0;\n"
    "}\n"
)

PARAGRAPH = (
    "The history of computing is a story of abstraction layered upon abstraction. "
    "Early machines were programmed by rewiring panels, then by punching cards, and later by "
    "typing mnemonics that an assembler translated into numbers. Each step hid a little more of "
    "the hardware from the programmer, and each step was resisted by people who feared that the "
    "new tools would produce slow, bloated programs. They were often right in the short term and "
    "wrong in the long term: compilers improved, memory became cheap, and the productivity gained "
    "by working at a higher level outweighed the cost. Today a language model can run on a laptop, "
    "turning billions of multiply-accumulate operations into a sentence that reads as if a person "
    "wrote it. Yet underneath, the same ideas remain: data is loaded from memory, combined with "
    "other data, and written back. Understanding those fundamentals still matters, because the "
    "fastest code is usually the code that moves the fewest bytes. Caches, vector units, and "
    "careful data layout decide whether a program finishes in one second or in ten. Engineers who "
    "know this write software that feels instant, and users notice, even if they never know why."
)
assert len(PARAGRAPH) >= 1000, len(PARAGRAPH)

CASES = [
    "",
    " ",
    "  ",
    " hello",
    "  hello",
    "   hello world",
    "hello ",
    "hello  world",
    " " * 3,
    " " * 4,
    " " * 5,
    " " * 8,
    " " * 13,
    " " * 16,
    " " * 20,
    "   123",
    "a    42",
    "x = 1      # comment",
    "\t",
    "\t\tindented",
    "a\tb\tc",
    "\n",
    "\n\n\n",
    "line1\nline2",
    "\r\n",
    "windows\r\nline\r\n",
    " \n \t \r\n  x",
    "trailing spaces   \n  next",
    PYTHON_CODE,
    C_CODE,
    "1",
    "12",
    "123",
    "1234",
    "1234567",
    "3.14159",
    "-42",
    "1e10",
    "version 2.0.1 released in 2024",
    "don't",
    "I'm",
    "we'll",
    "they've",
    "SHE'S",
    "it'd",
    "You're right, isn't it? Y'ALL'D",
    "中文",
    "日本語のテキストです。",
    "한국어 문장입니다",
    "العربية لغة جميلة",
    "עברית",
    "हिन्दी भाषा",
    "ภาษาไทย",
    "café",
    "naïve",
    "Ångström",
    "cafe\u0301 (combining acute)",
    "e\u0301\u0302\u0303",
    "👍",
    "👩‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🇫🇷🇯🇵",
    "I ❤️ Unicode 🎉!",
    "∀x ∈ ℝ: x² ≥ 0, ∑ᵢ aᵢ ≤ ∞ ≠ π",
    "https://example.com/path?query=1&b=two#frag",
    '{"key": "value", "n": [1, 2, 3], "nested": {"ok": true}}',
    "# Title\n\n- item *one*\n- item **two**\n\n```python\nprint('x')\n```\n",
    "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>",
    "text<|endoftext|>more",
    "<|im_start|",
    "<|im_end |>",
    "< |im_start|>",
    "<|IM_START|>",
    "<im_start>",
    "a" * 64,
    "=" * 40,
    "ab" * 30,
    "!!!???...",
    "Hello, World! HELLO world. hello WORLD",
    "\u00a0non-breaking\u00a0space",
    "zero\u200bwidth",
    PARAGRAPH,
]
