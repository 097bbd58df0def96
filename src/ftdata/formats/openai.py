"""OpenAI chat fine-tuning records (`messages`) and OpenAI preference (DPO) records."""

from ..records import Example, Message
from .base import Format, place_images, read_openai_messages, write_openai_messages


def _read_chat(data: dict, example: Example) -> None:
    example.messages = read_openai_messages(data.get("messages"), "messages")
    if "images" in data:  # LLaMA-Factory's column, with `<image>` markers in the turns
        place_images(example.messages, data["images"])
    example.tools = data.get("tools") if isinstance(data.get("tools"), list) else None
    if example.tools is None and isinstance(data.get("functions"), list):
        example.tools = [{"type": "function", "function": f} for f in data["functions"]]


def _write_chat(example: Example) -> tuple[dict, list[str]]:
    if example.is_preference:
        out, dropped = _write_preference(example)
        # A chat record holds one answer: keep the preferred one, say the other is gone.
        return {"messages": out["input"]["messages"] + out["preferred_output"], **_tools(example)}, [
            *dropped, "the rejected answer (a chat record holds one answer)"]
    return {"messages": write_openai_messages(example.messages or []), **_tools(example)}, []


def _read_preference(data: dict, example: Example) -> None:
    prompt = data.get("input") if isinstance(data.get("input"), dict) else {}
    example.messages = read_openai_messages(prompt.get("messages"), "input.messages")
    example.tools = prompt.get("tools") if isinstance(prompt.get("tools"), list) else None
    example.chosen = read_openai_messages(data.get("preferred_output"), "preferred_output")
    example.rejected = read_openai_messages(data.get("non_preferred_output"), "non_preferred_output")


def _write_preference(example: Example) -> tuple[dict, list[str]]:
    if not example.is_preference:
        prompt, answer = example.prompt(), example.answer()
        return {
            "input": {"messages": write_openai_messages(prompt), **_tools(example)},
            "preferred_output": _answer(prompt, answer),
            "non_preferred_output": [],
        }, ["non_preferred_output is empty: the source has no rejected answer"]
    prompt = example.messages or []
    return {
        "input": {"messages": write_openai_messages(prompt), **_tools(example)},
        "preferred_output": _answer(prompt, example.chosen or []),
        "non_preferred_output": _answer(prompt, example.rejected or []),
    }, []


def _answer(prompt: list[Message], answer: list[Message]) -> list[dict]:
    """The answer's messages, with call ids that follow on from the prompt's."""
    return write_openai_messages(prompt + answer)[len(prompt):]


def _tools(example: Example) -> dict:
    return {"tools": example.tools} if example.tools else {}


OPENAI_CHAT = Format(
    name="openai-chat",
    keys=("messages",),
    fields=("messages", "tools", "functions", "parallel_tool_calls", "images"),
    read=_read_chat,
    write=_write_chat,
)
OPENAI_PREFERENCE = Format(
    name="openai-preference",
    keys=("input", "preferred_output", "non_preferred_output"),
    fields=("input", "preferred_output", "non_preferred_output"),
    read=_read_preference,
    write=_write_preference,
    preference=True,
)

__all__ = ["OPENAI_CHAT", "OPENAI_PREFERENCE"]
