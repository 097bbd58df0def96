"""The check pipeline's stages, in the order records flow through them (the read stage is the source)."""

from .parse import ParseStage
from .profile import ProfileStage
from .schema import SchemaStage
from .tools import ToolsStage

STAGES = [
    ParseStage,
    SchemaStage,
    ProfileStage,
    ToolsStage,
]
