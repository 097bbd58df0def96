"""`ftdata generate`: synthetic training records through any OpenAI-compatible endpoint, checked by the
same stages as `ftdata check` before they are kept.

    from ftdata.generate import generate, load_recipe
    from ftdata.llm import CallCache, LLMClient, default_cache_path, find_pricing

    client = LLMClient("M", base_url="http://127.0.0.1:8080/v1", cache=CallCache(default_cache_path()),
                       pricing=find_pricing("M"), max_cost=5.0)
    report = generate(load_recipe("answers"), client, "gen.jsonl", prompts="prompts.jsonl",
                      rejected="gen.rejected.jsonl", seed=0)
    report.kept, report.generated, report.to_json()["cost_per_kept_usd"]

Recipes are data (`rules/recipes/*.toml`, see `recipes.py`); every record carries its provenance under
`metadata.provenance` (recipe and version, model, endpoint, seed records, cache keys of its calls, time).
"""

from .recipes import Recipe, builtin_recipes, load_recipe
from .run import PROVENANCE_KEY, GenerateReport, generate

__all__ = ["PROVENANCE_KEY", "GenerateReport", "Recipe", "builtin_recipes", "generate", "load_recipe"]
