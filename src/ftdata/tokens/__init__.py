"""Token counting with the trained model's tokenizer, length statistics, reference comparison and cost.

    from ftdata.tokens import load_tokenizer, TokenCounter
    counter = TokenCounter(load_tokenizer("o200k_base"))
    counter.text("hello")            # tokens of one string, cached
    counter.example(example, limit)  # RecordTokens: total, prompt, trainable, longest, by_role, cut_turns
"""

from .counting import RecordTokens, TokenCounter
from .tokenizers import Tokenizer, load_tokenizer

__all__ = ["RecordTokens", "TokenCounter", "Tokenizer", "load_tokenizer"]
