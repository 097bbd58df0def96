"""The content rules on the shapes real data takes: other languages, attached images, plain-text records,
structured answers that repeat on purpose, complete answers without a final full stop."""

import json

import pytest

import ftdata
from ftdata.config import config_from_table
from ftdata.errors import UsageError
from ftdata.quality import leftovers, lowq, phrases, shape


def check(tmp_path, records: list[dict], name: str = "train.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return ftdata.check([str(path)], config_from_table({}), jobs=1)


def codes(report, line: int | None = None) -> set[str]:
    return {f.code for f in report.findings if line is None or f.line == line}


def chat(user: str, answer: str, **extra) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}], **extra}


# Chinese beside English -------------------------------------------------------------------------------

@pytest.mark.parametrize("prompt,answer,found", [
    ("你好", "作为一个AI语言模型，我没有个人信仰或观点。", "作为一个AI语言模型"),
    ("请将以下代码矫正：", "抱歉，我需要看一下代码才能进行修正，请提供给我。", "请提供给我"),
    ("将下面的文章翻译成英文。", "请提供您要翻译的文章。", "请提供您要翻译的文章"),
])
def test_chinese_boilerplate_and_requests_for_the_missing_input(prompt, answer, found):
    message = lowq.boilerplate(answer, prompt=prompt)
    assert message and found in message


def test_asking_for_a_promised_input_is_an_answer():
    assert lowq.boilerplate("当然可以！请提供您的一篇文章样本。", prompt="如果我提供我的写作样本，你能否用相同的语气写另一篇文档？") is None
    assert lowq.boilerplate("Sure! Please send me the text.", prompt="I will send you my essay; correct its spelling.") is None


def test_chinese_answers_that_are_answers_pass():
    assert lowq.boilerplate("统合失调症是一种可通过适当治疗得到改善的疾病。") is None
    # asking for the input is only a non-answer when it is the whole, short answer
    long_answer = "请提供文章。" + "这是一个很长的回答，" * 30
    assert lowq.boilerplate(long_answer) is None


def test_chinese_records_through_check(tmp_path):
    report = check(tmp_path, [
        {"instruction": "将下面的文章翻译成英文。", "input": "", "output": "请提供您需要翻译的文章。"},
        {"instruction": "翻译这句话", "input": "无", "output": "Translate this sentence."},
        {"instruction": "描述这张图片中的人物。", "input": "", "output": "图片中有一位老人。"},
        {"instruction": "用一句话介绍长城。", "input": "", "output": "长城是中国古代的军事防御工程。"},
    ])
    assert "Q003" in codes(report, 1)
    assert "Q002" in codes(report, 2)
    assert "Q009" in codes(report, 3)
    assert not codes(report, 4) & {"Q002", "Q003", "Q004", "Q009"}


# Images -----------------------------------------------------------------------------------------------

def image_chat(url: str, answer: str) -> dict:
    return {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "Describe this picture."},
                                     {"type": "image_url", "image_url": {"url": url}}]},
        {"role": "assistant", "content": answer}]}


def test_one_question_about_many_images_is_no_conflict_and_no_low_diversity(tmp_path):
    report = check(tmp_path, [image_chat(f"https://img.test/{i}.png", f"A photo of object number {i}.") for i in range(12)])
    assert not codes(report) & {"C001", "C002", "G005", "Q009"}


def test_one_question_about_one_image_still_conflicts(tmp_path):
    report = check(tmp_path, [image_chat("https://img.test/same.png", f"A photo of object number {i}.") for i in range(12)])
    assert codes(report) & {"C002", "G005"}


@pytest.mark.parametrize("record", [
    {"messages": [{"role": "user", "content": "<image>Describe this picture."},
                  {"role": "assistant", "content": "A cat on a sofa."}], "images": ["cats/1.jpg"]},
    {"messages": [{"role": "user", "content": [{"type": "image", "image": "/data/cat.jpg"},
                                               {"type": "text", "text": "Describe this picture."}]},
                  {"role": "assistant", "content": [{"type": "text", "text": "A cat on a sofa."}]}]},
    {"contents": [{"role": "user", "parts": [{"fileData": {"mimeType": "image/png", "fileUri": "gs://b/cat.png"}},
                                             {"text": "Describe this picture."}]},
                  {"role": "model", "parts": [{"text": "A cat on a sofa."}]}]},
])
def test_an_attached_image_is_no_unseen_reference(tmp_path, record):
    assert "Q009" not in codes(check(tmp_path, [record]))


def test_a_picture_named_in_words_is_seen_but_a_stand_in_is_not():
    assert lowq.unseen_reference("Describe the given painting in 5 adjectives.\n\nThe Night Watch by Rembrandt", False) is None
    assert lowq.unseen_reference("Create a metaphor inspired by the following painting.\n\n[Image of painting]", False)
    assert lowq.unseen_reference("Describe the image below.", True) is None


# Plain-text (pretraining) records ---------------------------------------------------------------------

def test_text_records_get_no_chat_rules(tmp_path):
    loop = "The river rose. " * 40
    report = check(tmp_path, [
        {"text": loop},
        {"text": "Read more at https://www.example-news.org/2021/05/flood-story about the flood of the"},
        {"text": "A short note without a user turn"},
        {"text": "Deploy with key AKIAZ7XQ2N4P6R8T0VWY today."},
    ])
    found = codes(report)
    assert not found & {"Q004", "Q005", "Q008", "G007", "G008"}, found
    assert "Q010" in codes(report, 4)  # rules about the text itself still apply


# Structure that repeats on purpose --------------------------------------------------------------------

ARITHMETIC_STEPS = "\n".join(
    f"Step {i}: Compare 3 with the remaining elements of the array, starting with {n}. 3 is smaller than {n}, "
    "so the array remains unchanged." for i, n in enumerate([8, 5, 4, 9, 7, 6], 1))
NUMBERED_QUIZ = "\n\n".join(
    f"Question {i}: What is the field of science that deals with the study of {topic}?\nA. Biology\nB. Physics\n"
    "C. Chemistry\nD. Astronomy" for i, topic in enumerate(["living organisms", "matter and energy", "the stars",
                                                           "chemical reactions"], 1))
HTML_TABLE = "<table>\n" + "".join(f"  <tr>\n    <td>Row {i}</td>\n    <td>Row {i}</td>\n  </tr>\n" for i in range(6)) + "</table>"


@pytest.mark.parametrize("answer", [ARITHMETIC_STEPS, NUMBERED_QUIZ, HTML_TABLE,
                                    "10092 = 2^2 * 11 * 941, so 11 * 941 * 11 * 941 * 11 * 941 * 11 * 941 divide it.",
                                    "Deck the halls with boughs of holly\nFa la la la la, la la la la\n"
                                    "'Tis the season to be jolly\nFa la la la la, la la la la"])
def test_structure_is_not_a_loop(answer):
    assert shape.repetitive(answer) is None


@pytest.mark.parametrize("answer", ["Eat a banana! " * 30,
                                    "Cats are nice. " + "I am so happy today. " * 8,
                                    "\n".join(f"{i}. The cat is nice and fluffy and good." for i in range(1, 8))])
def test_real_loops_still_are(answer):
    assert shape.repetitive(answer)


# Complete answers without a final full stop -----------------------------------------------------------

@pytest.mark.parametrize("prompt,answer", [
    ("List ways to be kind.", "1. Listen and empathize with their feelings.\n2. Offer to help when you can.\n"
                              "3. Offer to help someone with a task they are struggling with"),
    ("Analyze the parts of speech.", "Subject: She | Verb: ate | Article: a | Adjective: yummy | Noun: cake"),
    ("Write a haiku.", "Golden sun shines bright\nSeagulls soaring in the sky\nPeaceful waves rolling in"),
    ("Who wrote the novel? Context: The novel was written by Jane Austen in the early 1810s",
     "written by Jane Austen in the early 1810s"),
    ("What do these learners face?", "They face several difficulties. These include: - Difficulty understanding social "
                                     "cues - Challenges with joint attention and shared experiences"),
    ("Write a thank-you letter.", "Dear team,\n\nThank you for your help this year. It meant a lot to all of us.\n\n"
                                  "Best,\nABC Ltd. Team"),
])
def test_complete_answers_without_a_full_stop_are_not_cut(prompt, answer):
    assert shape.truncated(answer, prompt) is None


@pytest.mark.parametrize("answer", ["The sum of 14 and 6 is equal to",
                                    "Calcium is a chemical element with the symbol Ca and atomic number of",
                                    "Here is the plan:\n1. Preheat the oven.\n2. Mix the flour and sugar well.\n3. Pour the"])
def test_cut_answers_still_are(answer):
    assert shape.truncated(answer)


# Links ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("prompt,answer", [
    ("How do I get the weather in a terminal?", "Run this:\n```\ncurl https://wttr.in/London\n```"),
    ("How do I get the weather in a terminal?", "Use curl https://wttr.in/[YOUR_LOCATION] in a shell."),
    ("Where are CVE scores published?", "The National Vulnerability Database at https://nvd.nist.gov/ has them."),
    ("请给出这些信息的来源。", "来源：https://www.example-news.org/2021/05/story"),
])
def test_links_that_are_not_unprompted(prompt, answer):
    assert lowq.unprompted_link(prompt, answer) is None


def test_invented_links_still_are():
    assert lowq.unprompted_link("Write a story about a ghost.", "Once upon a time... (source: https://www.stories.com/ghost-123)")
    assert lowq.unprompted_link("Design a logo.", "![Logo](https://i.imgur.com/G8HyAoo.png)")


# Leftovers --------------------------------------------------------------------------------------------

def test_template_variables_and_escaped_newlines():
    assert leftovers.template_variable("Summarize: {{CONTENT_EXACT}}")
    assert leftovers.template_variable("Dear {CUSTOMER_NAME}, thanks.")
    assert leftovers.template_variable("In Vue write `{{ message }}` in the template.") is None
    assert leftovers.template_variable('Use "{name}".format(name="Ada") or {"key": 1}.') is None
    assert leftovers.escaped_newlines("First line\\nSecond line\\nThird line")
    assert not leftovers.escaped_newlines('Call print("a\\nb") to print two lines.\\n')
    assert not leftovers.escaped_newlines("The gradient $\\nabla f$ and $a \\neq b$.")


# The phrase lists are data ----------------------------------------------------------------------------

def test_every_phrase_list_compiles():
    for name in phrases.names():
        assert phrases.pattern(name).pattern


def test_a_broken_phrase_is_a_usage_error(tmp_path, monkeypatch):
    (tmp_path / "phrases").mkdir()
    (tmp_path / "phrases" / "quality.toml").write_text("[refusal]\nphrases = ['(unclosed']\n")
    monkeypatch.setattr(phrases, "rules_dir", lambda: tmp_path)
    phrases._lists.cache_clear()
    phrases.pattern.cache_clear()
    try:
        with pytest.raises(UsageError, match=r"quality.toml: \[refusal\] phrases\[0\]"):
            phrases.pattern("refusal")
    finally:
        phrases._lists.cache_clear()
        phrases.pattern.cache_clear()


def test_a_phrase_a_user_adds_is_found_in_any_file(monkeypatch):
    """An added phrase shares no substring with the shipped ones: a small file (searched by Python, record by
    record) and a large batch (searched natively first) both find it."""
    import tomllib

    from ftdata.quality.native import BatchSearch
    from ftdata.resources import rules_dir

    lists = tomllib.loads((rules_dir() / phrases.FILE).read_text())
    lists["refusal"]["phrases"].append(r"I cannot comply")
    monkeypatch.setattr(phrases, "_lists", lambda: lists)
    phrases.pattern.cache_clear()
    try:
        answer = "Unfortunately I cannot comply with that."
        assert lowq.boilerplate(answer)
        answers = [answer, *["A plain answer about gardens and rain." * 8] * 1000]
        search = BatchSearch([((phrases.pattern("refusal"),), answers)])
        assert search.native and lowq.boilerplate(answers[0], search=search.search)
    finally:
        phrases.pattern.cache_clear()
