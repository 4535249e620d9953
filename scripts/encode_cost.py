"""What encoding costs per paper (issue "Scale, second pass"): the bundled corpus encoded as ingest does (the title
and each abstract sentence, one text each) and as one text per paper (title + abstract, what the LlamaIndex
quickstart embeds), with the int8 ONNX encoder that ingest uses on the CPU and with torch.

Run:  python scripts/encode_cost.py
"""

from __future__ import annotations

import time

from rag.config import RagSettings
from rag.corpus import load_corpus
from rag.embedding import SentenceTransformerEncoder, model_name, model_path, query_encoder
from rag.text import sentence_spans


def papers_per_second(encode, texts: list[str], papers: int) -> float:
    started = time.perf_counter()
    encode(texts)
    return papers / (time.perf_counter() - started)


def main() -> None:
    settings = RagSettings()
    papers = load_corpus(settings.corpus_paths).papers
    sentences = [text for p in papers for text in [p.title] + [p.abstract[a:b] for a, b in sentence_spans(p.abstract)]]
    whole = [f"{p.title}\n{p.abstract}" for p in papers]
    encoders = {"int8 ONNX (ingest on the CPU)": query_encoder(settings).encode,
                "torch fp32": SentenceTransformerEncoder(model_path(settings), model_name(settings), 32).encode}
    print(f"{len(papers)} papers, {len(sentences)} sentence texts")
    for name, encode in encoders.items():
        per_sentence = papers_per_second(encode, sentences, len(papers))
        per_paper = papers_per_second(encode, whole, len(papers))
        print(f"{name}: {per_sentence:.1f} papers/s encoding each sentence, {per_paper:.1f} papers/s one text per "
              f"paper ({per_paper / per_sentence:.2f}x)")


if __name__ == "__main__":
    main()
