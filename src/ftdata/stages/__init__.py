"""The check pipeline's stages, in the order records flow through them (the read stage is the source)."""

from .duplicates import DuplicatesStage
from .parse import ParseStage
from .profile import ProfileStage
from .schema import SchemaStage
from .tools import ToolsStage
from .quality import QualityStage
from .consistency import ConsistencyStage
from .contradictions import ContradictionsStage
from .guidance import GuidanceStage

STAGES = [
    ParseStage,
    SchemaStage,
    ProfileStage,
    ToolsStage,
    DuplicatesStage,
    QualityStage,
    ConsistencyStage,
    ContradictionsStage,
    GuidanceStage,
]
