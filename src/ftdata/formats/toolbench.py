"""ToolBench (OpenBMB) training records: `query`, `functions` and `train_messages`, a list of ever longer
prefixes of one conversation, each ending on an assistant turn to learn (OpenAI's legacy `function_call`
turns and `function` results). The last prefix is the whole conversation, which is what ftdata reads."""

from ..records import Example
from .base import Format, json_text, read_openai_messages


def _read(data: dict, example: Example) -> None:
    prefixes = data.get("train_messages")
    last = len(prefixes) - 1 if isinstance(prefixes, list) else -1
    example.messages = read_openai_messages(prefixes[last], f"train_messages[{last}]") if last >= 0 else []
    functions = data.get("functions")
    if isinstance(functions, list):
        example.tools = [{"type": "function", "function": f} for f in functions]


def _write(example: Example) -> tuple[dict, list[str]]:
    messages = list(example.prompt()) + list(example.answer())
    dropped = ["the rejected answer (a ToolBench record holds one conversation)"] if example.is_preference else []
    written, called = [], None
    for m in messages:
        result = m.role in ("tool", "function")
        entry: dict = {"role": "function" if result else m.role,
                       "content": m.content if m.has_content or not m.tool_calls else None}
        if result or m.name is not None:
            entry["name"] = m.name or called or ""
        if m.tool_calls:
            call = m.tool_calls[0]
            called = call.name
            entry["function_call"] = {"name": call.name, "arguments": json_text(call.arguments)}
            dropped += [f"{c.path}: ToolBench holds one call per turn" for c in m.tool_calls[1:]]
        dropped += [f"{m.path}: images"] if m.images else []
        written.append(entry)
    ends = [i + 1 for i, m in enumerate(messages) if m.role == "assistant"]
    query = next((m.content for m in messages if m.role == "user"), "")
    functions = [t.get("function", t) for t in example.tools or []]
    return {"query": query, "functions": functions, "train_messages": [written[:end] for end in ends]}, dropped


TOOLBENCH = Format(
    name="toolbench",
    keys=("query", "functions", "train_messages"),
    fields=("query", "functions", "train_messages"),
    read=_read,
    write=_write,
)
