"""The check pipeline's stages, in the order records flow through them (the read stage is the source)."""

from .consistency import ConsistencyStage
from .contradictions import ContradictionsStage
from .duplicates import DuplicatesStage
from .guidance import GuidanceStage
from .parse import ParseStage
from .profile import ProfileStage
from .quality import QualityStage
from .schema import SchemaStage
from .tokens import TokensStage
from .tools import ToolsStage

STAGES = [
    ParseStage,
    SchemaStage,
    ProfileStage,
    ToolsStage,
    QualityStage,
    ConsistencyStage,
    DuplicatesStage,
    ContradictionsStage,
    TokensStage,
    GuidanceStage,
]
