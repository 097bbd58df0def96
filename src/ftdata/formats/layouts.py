"""Layouts of public datasets that ftdata recognises but does not read as training records.

A record in one of them gets one finding (S008) naming the layout and the conversion, instead of the
generic "no known format" (S001), which would leave the user to guess what ftdata saw.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Layout:
    name: str
    keys: tuple[str, ...]  # all present: the record is in this layout
    what: str
    convert: str


LAYOUTS = (
    Layout("gorilla-apibench", ("code", "api_call", "api_data"),
           "Gorilla APIBench: `code` holds an '###Instruction' / 'Output' pair written as a Python dict in a "
           "string, `api_call` the call to learn",
           "take the instruction and the output out of `code` and write them as {\"prompt\", \"completion\"} "
           "(prompt-completion) or as openai-chat messages"),
)


def layout_of(data: dict) -> Layout | None:
    keys = data.keys()
    return next((layout for layout in LAYOUTS if keys >= frozenset(layout.keys)), None)
