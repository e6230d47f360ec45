"""``hf-mllm``: a transformers image-text-to-text model (LLaVA-1.5, LLaVA-Next, Qwen2-VL, ...).

Loaded from a Hub id or a local folder with ``AutoProcessor`` and
``AutoModelForImageTextToText`` (``AutoModelForVision2Seq`` on older transformers, else the
class named in the config's ``architectures``). Each request is one user turn, its images
then its prompt text, rendered with the processor's chat template; a batch is left-padded and
generated in one ``generate`` call, and only the new tokens are decoded.

Generation follows the harness's settings (OpenAI names): ``temperature`` 0 or unset is
greedy (``do_sample=False``), above 0 samples (seeded by ``seed`` when given); ``max_tokens``
is ``max_new_tokens``; ``top_p``, ``top_k``, ``repetition_penalty``, ``num_beams`` pass
through; ``stop`` strings end the answer. Greedy decoding on CPU gives the same answer for a
request whatever the batch it is in.

Arguments (``--model-args``): ``pretrained`` (required; a Hub id or a local path; ``model`` is
an alias), ``revision``, ``dtype`` (``float32``, ``bfloat16``, ``float16`` or ``auto``: the
checkpoint's; default ``bfloat16`` on CUDA, ``float32`` on CPU), ``device`` (``auto``: CUDA
when there is one; ``cpu``; ``cuda``; ``cuda:N``), ``max_new_tokens`` (overrides the task's
``max_tokens``), ``batch_size`` (default 8; ``--batch-size`` wins), ``system_prompt``,
``min_pixels`` / ``max_pixels`` (Qwen2-VL's image processor), ``attn_implementation``
(``sdpa``, ``eager``, ``flash_attention_2``), ``trust_remote_code`` (false).

The fingerprint (what keys the response cache) holds the model id, the revision and the Hub
commit when known, for a local folder a digest of its files, the dtype and the arguments that
change answers; not the device or the batch size.

Attention maps (``attend``, for the attention tasks): one forward pass per batch with eager
attention and ``output_attentions`` (the reference code's route; the model is switched to
eager for the pass and back), each request's prompt and contrast prompt in one left-padded
batch. From each decoder layer it keeps the last prompt token's attention to the image tokens
(the positions of the config's image token id in the expanded ``input_ids``), averaged over
heads, laid out on the token grid: ``image_grid_thw`` / merge size for Qwen2-VL, else a square
grid (LLaVA-1.5: 24 x 24). The preprocessing that maps image pixels to that grid is read from
the image processor (``do_pad``: pad to square; ``do_center_crop``: centre crop; Qwen2-VL:
resize). Eager attention materialises every layer's (tokens x tokens) matrix: about 1 GB a
row for a 7B model with ~700 tokens in bfloat16, so keep ``--batch-size`` small on GPU, or
pass ``attention_maps=probe``: SDPA for the layers' outputs plus only the last row of each
layer's attention (``attention_probe``; the same numbers for plain softmax attention, not for
soft-capped or sliding-window models). Neither changes the fingerprint.
Layouts that are not one grid (LLaVA-NeXT's tiles and newline tokens) are refused per request.

It needs torch and transformers (the ``models`` extra); without them, asking for this model
fails with that instruction rather than an ImportError from deep inside.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import inspect
import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from medbench.evaluators.models import attention_probe
from medbench.evaluators.models.base import (
    AttentionMaps,
    BaseEvalModel,
    EvalFailure,
    EvalRequest,
    ImagePreprocess,
)

DEFAULT_BATCH_SIZE = 8
DEFAULT_MAX_NEW_TOKENS = 256
_DTYPES = {
    "float32": "float32",
    "fp32": "float32",
    "bfloat16": "bfloat16",
    "bf16": "bfloat16",
    "float16": "float16",
    "fp16": "float16",
    "half": "float16",
    "auto": "auto",
}
# harness (OpenAI) name -> GenerationConfig name
_GENERATION_KEYS = {
    "max_tokens": "max_new_tokens",
    "max_new_tokens": "max_new_tokens",
    "min_tokens": "min_new_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "repetition_penalty": "repetition_penalty",
    "num_beams": "num_beams",
    "length_penalty": "length_penalty",
    "no_repeat_ngram_size": "no_repeat_ngram_size",
}
_DIGEST_WHOLE = 4 << 20  # files up to this size are hashed whole
_DIGEST_EDGE = 1 << 20  # of larger ones (weights): size, first and last MiB


class ModelUnavailable(RuntimeError):
    """The model cannot run in this environment (a missing extra, path or model kind)."""


def missing_packages() -> list[str]:
    return [name for name in ("torch", "transformers") if importlib.util.find_spec(name) is None]


class HFMLLMArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pretrained: str = Field(min_length=1)
    revision: str | None = None
    dtype: str | None = None
    device: str = "auto"
    max_new_tokens: int | None = Field(None, ge=1)
    batch_size: int = Field(DEFAULT_BATCH_SIZE, ge=1)
    system_prompt: str | None = None
    min_pixels: int | None = Field(None, ge=1)
    max_pixels: int | None = Field(None, ge=1)
    attn_implementation: str | None = None
    trust_remote_code: bool = False
    attention_maps: Literal["eager", "probe"] = "eager"

    @field_validator("dtype")
    @classmethod
    def _dtype(cls, value: str | None) -> str | None:
        if value is None:
            return None
        key = value.strip().lower().removeprefix("torch.")
        if key not in _DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(sorted(set(_DTYPES)))}")
        return _DTYPES[key]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _args_error(exc: ValidationError) -> ValueError:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "arguments"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown argument"
        parts.append(f"{where}: {msg}")
    return ValueError(f"hf-mllm --model-args: {'; '.join(parts)}")


def looks_like_path(name: str) -> bool:
    """A local path rather than a Hub id (``org/name``)."""
    return (
        name.startswith(("/", "./", "../", "~", ".\\"))
        or (os.sep != "/" and os.sep in name)
        or name.count("/") > 1
        or Path(name).expanduser().exists()
    )


def folder_digest(folder: Path) -> str:
    """sha256 of a model folder: each file's relative name and size, small files whole, large
    ones (weights) by their first and last MiB (cheap, and any re-saved weights differ)."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        size = path.stat().st_size
        h.update(f"{rel}\0{size}\0".encode())
        with open(path, "rb") as fh:
            if size <= _DIGEST_WHOLE:
                h.update(fh.read())
            else:
                h.update(fh.read(_DIGEST_EDGE))
                fh.seek(size - _DIGEST_EDGE)
                h.update(fh.read(_DIGEST_EDGE))
    return h.hexdigest()


def _open_image(data: bytes):
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB")


class HFMLLMModel(BaseEvalModel):
    name = "hf-mllm"
    description = (
        "transformers image-text-to-text model (LLaVA, Qwen2-VL, ...; needs the models extra); "
        "args: pretrained, dtype, device, max_new_tokens, batch_size"
    )

    def __init__(self, **args: Any) -> None:
        missing = missing_packages()
        if missing:
            raise ModelUnavailable(
                f"the hf-mllm model needs the models extra ({', '.join(missing)} not installed): "
                "pip install 'medbench[models]'"
            )
        if "model" in args and "pretrained" not in args:
            args["pretrained"] = args.pop("model")
        if "pretrained" not in args:
            raise ValueError(
                "the hf-mllm model needs pretrained=<Hub id or local path> in --model-args"
            )
        try:
            self.args = HFMLLMArgs(**args)
        except ValidationError as exc:
            raise _args_error(exc) from None
        self.model_id = f"hf-mllm:{self.args.pretrained}"
        self.default_batch_size = self.args.batch_size
        self._load()

    # ------------------------------------------------------------------------------ loading

    def _source(self) -> tuple[str, Path | None]:
        name = self.args.pretrained
        if not looks_like_path(name):
            return name, None
        path = Path(name).expanduser()
        if not path.exists():
            raise ModelUnavailable(f"hf-mllm: model path {name} does not exist")
        if not path.is_dir() or not (path / "config.json").is_file():
            raise ModelUnavailable(
                f"hf-mllm: {name} is not a transformers model folder (no config.json)"
            )
        return str(path), path

    def _device(self, torch: Any) -> str:
        device = self.args.device.strip().lower()
        if device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ModelUnavailable(f"hf-mllm: device={device} asked for, but CUDA is not available")
        if device != "cpu" and not device.startswith(("cuda", "mps", "xpu")):
            raise ValueError(f"hf-mllm: device must be auto, cpu, cuda or cuda:N, got {device!r}")
        return device

    def _model_class(self, transformers: Any, config: Any) -> Any:
        """AutoModelForImageTextToText, else AutoModelForVision2Seq, else the config's own
        ``*ForConditionalGeneration`` class when the config has a vision part."""
        for auto_name, mapping_name in (
            ("AutoModelForImageTextToText", "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING"),
            ("AutoModelForVision2Seq", "MODEL_FOR_VISION_2_SEQ_MAPPING"),
        ):
            auto = getattr(transformers, auto_name, None)
            if auto is None:
                continue
            from transformers.models.auto import modeling_auto

            mapping = getattr(modeling_auto, mapping_name, None)
            if mapping is not None and type(config) in mapping:
                return auto
            if self.args.trust_remote_code and auto_name in (getattr(config, "auto_map", {}) or {}):
                return auto
        multimodal = any(
            getattr(config, attr, None) is not None
            for attr in ("vision_config", "visual", "vision_tower", "mm_vision_tower")
        )
        for arch in getattr(config, "architectures", None) or []:
            cls = getattr(transformers, arch, None)
            if cls is not None and multimodal and arch.endswith("ForConditionalGeneration"):
                return cls
        archs = ", ".join(getattr(config, "architectures", None) or []) or "none"
        raise ModelUnavailable(
            f"hf-mllm: {self.args.pretrained} is not an image-text-to-text model "
            f"(model_type {getattr(config, 'model_type', '?')!r}, architectures {archs})"
        )

    def _load(self) -> None:
        import torch
        import transformers
        from packaging.version import Version

        source, folder = self._source()
        self.device = self._device(torch)
        common: dict[str, Any] = {"trust_remote_code": self.args.trust_remote_code}
        if self.args.revision:
            common["revision"] = self.args.revision
        try:
            config = transformers.AutoConfig.from_pretrained(source, **common)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelUnavailable(
                f"hf-mllm: cannot load {self.args.pretrained}: {_one_line(exc)}"
            ) from None
        cls = self._model_class(transformers, config)

        proc_kwargs = dict(common)
        for key in ("min_pixels", "max_pixels"):
            value = getattr(self.args, key)
            if value is not None:
                proc_kwargs[key] = value
        try:
            processor = transformers.AutoProcessor.from_pretrained(source, **proc_kwargs)
        # ImportError / AttributeError: a processor part that needs a missing package
        # (transformers 5's video processors need torchvision)
        except (OSError, ValueError, KeyError, TypeError, ImportError, AttributeError) as exc:
            raise ModelUnavailable(
                f"hf-mllm: cannot load the processor of {self.args.pretrained}: {_one_line(exc)}"
            ) from None
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is None or getattr(processor, "image_processor", None) is None:
            raise ModelUnavailable(
                f"hf-mllm: {self.args.pretrained} has no image processor, so it is not an "
                "image-text-to-text model"
            )
        template = getattr(processor, "chat_template", None) or getattr(
            tokenizer, "chat_template", None
        )
        if not template:
            raise ModelUnavailable(
                f"hf-mllm: {self.args.pretrained} has no chat template (processor or tokenizer)"
            )
        if getattr(processor, "chat_template", None) is None:
            processor.chat_template = template
        tokenizer.padding_side = "left"  # generation continues every row at the same column
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token

        dtype_name = self.args.dtype or (
            "bfloat16" if self.device.startswith("cuda") else "float32"
        )
        dtype = "auto" if dtype_name == "auto" else getattr(torch, dtype_name)
        dtype_key = (
            "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"
        )
        model_kwargs: dict[str, Any] = {**common, dtype_key: dtype}
        if self.args.attn_implementation:
            model_kwargs["attn_implementation"] = self.args.attn_implementation
        try:
            model = cls.from_pretrained(source, **model_kwargs)
        except (OSError, ValueError, KeyError) as exc:
            raise ModelUnavailable(
                f"hf-mllm: cannot load {self.args.pretrained}: {_one_line(exc)}"
            ) from None
        model.to(self.device)
        model.eval()
        self.model = model
        self.processor = processor
        self.tokenizer = tokenizer
        self.torch = torch
        self.dtype = model.dtype
        # a tokenizer may give token_type_ids that the model does not take (generate refuses)
        self._drop = (
            set()
            if "token_type_ids" in inspect.signature(model.forward).parameters
            else {"token_type_ids"}
        )
        commit = getattr(config, "_commit_hash", None) or getattr(
            model.config, "_commit_hash", None
        )
        self._fingerprint = {
            "pretrained": self.args.pretrained,
            "revision": self.args.revision,
            "commit": commit,
            "folder_sha256": folder_digest(folder) if folder is not None else None,
            "class": type(model).__name__,
            "dtype": str(self.dtype).removeprefix("torch."),
            "max_new_tokens": self.args.max_new_tokens,
            "system_prompt": self.args.system_prompt,
            "min_pixels": self.args.min_pixels,
            "max_pixels": self.args.max_pixels,
            "chat_template_sha256": hashlib.sha256(str(template).encode()).hexdigest(),
        }

    def fingerprint_args(self) -> Mapping[str, Any]:
        return dict(self._fingerprint)

    # ------------------------------------------------------------------------------ generation

    def messages(self, request: EvalRequest) -> list[dict[str, Any]]:
        content: list[dict[str, Any]] = [{"type": "image"} for _ in request.images]
        content.append({"type": "text", "text": request.prompt})
        messages: list[dict[str, Any]] = []
        if self.args.system_prompt:
            messages.append(
                {"role": "system", "content": [{"type": "text", "text": self.args.system_prompt}]}
            )
        messages.append({"role": "user", "content": content})
        return messages

    def prompt_text(self, request: EvalRequest) -> str:
        return self.processor.apply_chat_template(
            self.messages(request), add_generation_prompt=True, tokenize=False
        )

    def generation_config(self, generation: Mapping[str, Any]) -> tuple[Any, list[str], Any]:
        """The GenerationConfig of a request's settings, its stop strings and its seed."""
        settings: dict[str, Any] = {}
        stop: list[str] = []
        seed = None
        for key, value in generation.items():
            if value is None:
                continue
            if key == "stop":
                stop = [value] if isinstance(value, str) else [str(s) for s in value]
            elif key == "seed":
                seed = int(value)
            elif key in _GENERATION_KEYS:
                settings[_GENERATION_KEYS[key]] = value
            else:
                raise ValueError(f"hf-mllm does not support the generation setting {key!r}")
        if self.args.max_new_tokens is not None:
            settings["max_new_tokens"] = self.args.max_new_tokens
        settings.setdefault("max_new_tokens", DEFAULT_MAX_NEW_TOKENS)
        temperature = float(settings.pop("temperature", 0.0) or 0.0)
        config = copy.deepcopy(self.model.generation_config)
        if temperature > 0:
            config.do_sample = True
            config.temperature = temperature
        else:
            # greedy: drop the checkpoint's sampling defaults (Qwen2-VL ships some)
            config.do_sample = False
            for attr in ("temperature", "top_p", "top_k"):
                if hasattr(config, attr):
                    setattr(config, attr, None)
            settings = {k: v for k, v in settings.items() if k not in ("top_p", "top_k")}
        for key, value in settings.items():
            setattr(config, key, value)
        if config.pad_token_id is None:
            config.pad_token_id = self.tokenizer.pad_token_id
        return config, stop, seed

    def _inputs(self, texts: list[str], images: list[Any]) -> Any:
        """The processor's left-padded batch on the model's device, floats in its dtype."""
        torch = self.torch
        inputs = self.processor(
            text=texts, images=images or None, padding=True, return_tensors="pt"
        )
        for key in self._drop & set(inputs):
            del inputs[key]
        inputs = inputs.to(self.device)
        for key, value in inputs.items():
            if torch.is_tensor(value) and torch.is_floating_point(value):
                inputs[key] = value.to(self.dtype)
        return inputs

    def _generate(self, batch: list[EvalRequest]) -> list[str]:
        torch = self.torch
        config, stop, seed = self.generation_config(batch[0].generation)
        texts = [self.prompt_text(r) for r in batch]
        images = [_open_image(data) for r in batch for data in r.images]
        inputs = self._inputs(texts, images)
        if config.do_sample and seed is not None:
            torch.manual_seed(seed)
        with torch.inference_mode():
            output = self.model.generate(**inputs, generation_config=config)
        if not getattr(self.model.config, "is_encoder_decoder", False):
            output = output[:, inputs["input_ids"].shape[1] :]
        answers = self.tokenizer.batch_decode(output, skip_special_tokens=True)
        out = []
        for text in answers:
            for s in stop:
                if s and s in text:
                    text = text[: text.index(s)]
            out.append(text.strip())
        return out

    def generate(self, batch: list[EvalRequest]) -> list[str | EvalFailure]:
        # one generate call per distinct generation setting (a task's batch has one)
        groups: dict[str, list[int]] = {}
        for i, request in enumerate(batch):
            key = json.dumps(dict(request.generation), sort_keys=True, default=str)
            groups.setdefault(key, []).append(i)
        out: list[str | EvalFailure] = [EvalFailure("not answered")] * len(batch)
        for indices in groups.values():
            answers = self._generate([batch[i] for i in indices])
            for i, answer in zip(indices, answers, strict=True):
                out[i] = answer
        return out

    # ------------------------------------------------------------------------------ attention

    def _image_geometry(
        self, inputs: Any, image_index: int
    ) -> tuple[tuple[int, int], ImagePreprocess, tuple[int, int]]:
        """(grid rows, cols), preprocessing and (width, height) of the model input for the
        ``image_index``-th image of a processed batch; ValueError for unsupported layouts."""
        patch = getattr(self.model.config, "vision_config", None)
        if "image_grid_thw" in inputs:  # Qwen2-VL family: a grid of the resized image's shape
            t, h, w = (int(v) for v in inputs["image_grid_thw"][image_index])
            merge = int(getattr(patch, "spatial_merge_size", 2) or 2)
            patch_size = int(getattr(patch, "patch_size", 14) or 14)
            if t != 1:
                raise ValueError(f"an image of {t} temporal patches has no single token grid")
            return (h // merge, w // merge), "resize", (w * patch_size, h * patch_size)
        proc = self.processor.image_processor

        def side(value: Any, key: str) -> int | None:
            if value is None:
                return None
            got = value.get(key) if isinstance(value, Mapping) else getattr(value, key, None)
            return int(got) if got else None

        size, crop = getattr(proc, "size", None), getattr(proc, "crop_size", None)
        if getattr(proc, "do_pad", False):
            preprocess: ImagePreprocess = "pad"
        elif getattr(proc, "do_center_crop", False):
            preprocess = "crop"
            shortest = side(size, "shortest_edge")
            if shortest is not None and shortest != side(crop, "height"):
                raise ValueError(
                    f"resize to {shortest} then crop to {side(crop, 'height')} is not one of the "
                    "supported image layouts"
                )
        else:
            preprocess = "resize"
        if preprocess == "crop" or side(size, "height") is None:
            source = crop if side(crop, "height") else size
        else:
            source = size
        width = side(source, "width") or side(source, "shortest_edge")
        height = side(source, "height") or side(source, "shortest_edge")
        if not width or not height:
            raise ValueError("the image processor does not state its input size")
        return (0, 0), preprocess, (width, height)  # grid from the token count

    def _attention_rows(self, texts: list[str], images: list[Any]) -> tuple[Any, Any]:
        """One forward pass: (inputs, per-row [layers, heads, tokens] attention of the last
        position, float32 on the CPU), by eager attention or the last-row probe."""
        torch = self.torch
        inputs = self._inputs(texts, images)
        if self.args.attention_maps == "probe":
            with attention_probe.capture(self.model) as rows, torch.inference_mode():
                self.model(**inputs, use_cache=False)
            return inputs, torch.stack(rows, dim=1).cpu()
        previous = getattr(self.model.config, "_attn_implementation", None)
        if previous != "eager":
            self.model.set_attn_implementation("eager")
        try:
            with torch.inference_mode():
                outputs = self.model(**inputs, output_attentions=True, use_cache=False)
        finally:
            if previous not in (None, "eager"):
                self.model.set_attn_implementation(previous)
        attentions = getattr(outputs, "attentions", None)
        if not attentions:
            raise ModelUnavailable(f"hf-mllm: {self.args.pretrained} returned no attention weights")
        # last query row of each layer and head: [batch, layers, heads, keys]
        last = torch.stack([a[:, :, -1, :].float() for a in attentions], dim=1)
        return inputs, last.cpu()

    def attend(self, batch: list[EvalRequest]) -> list[AttentionMaps | EvalFailure]:
        out: list[AttentionMaps | EvalFailure] = [EvalFailure("not answered")] * len(batch)
        texts: list[str] = []
        images: list[Any] = []
        owners: list[tuple[int, bool]] = []  # (request index, is the contrast prompt)
        for i, request in enumerate(batch):
            if len(request.images) != 1:
                out[i] = EvalFailure(f"attention maps need one image, got {len(request.images)}")
                continue
            image = _open_image(request.images[0])
            prompts = [(request.prompt, False)]
            if request.contrast_prompt is not None:
                prompts.append((request.contrast_prompt, True))
            for prompt, is_contrast in prompts:
                texts.append(self.prompt_text(EvalRequest(request.sample_id, prompt, (b"",), {})))
                images.append(image)
                owners.append((i, is_contrast))
        if not texts:
            return out
        inputs, last = self._attention_rows(texts, images)
        token_id = getattr(self.model.config, "image_token_id", None)
        if token_id is None:
            token_id = getattr(self.model.config, "image_token_index", None)
        if token_id is None:
            raise ModelUnavailable(f"hf-mllm: {self.args.pretrained} names no image token id")
        is_image = (inputs["input_ids"] == int(token_id)).cpu()
        found: dict[int, dict[bool, Any]] = {}
        geometry: dict[int, tuple[tuple[int, int], ImagePreprocess, tuple[int, int]]] = {}
        failed: dict[int, str] = {}
        for row, (i, is_contrast) in enumerate(owners):
            if i in failed:
                continue
            positions = is_image[row].nonzero().flatten()
            try:
                grid, preprocess, input_size = self._image_geometry(inputs, row)
                if grid == (0, 0):
                    side = int(round(len(positions) ** 0.5))
                    grid = (side, side)
                if grid[0] * grid[1] != len(positions) or len(positions) == 0:
                    raise ValueError(
                        f"{len(positions)} image tokens do not form the {grid[0]}x{grid[1]} grid "
                        "(tiled layouts such as LLaVA-NeXT's are not supported)"
                    )
            except ValueError as exc:
                failed[i] = str(exc)
                continue
            heads = last[row][:, :, positions]  # [layers, heads, image tokens]
            found.setdefault(i, {})[is_contrast] = heads.mean(dim=1).reshape(-1, *grid).numpy()
            if not is_contrast and batch[i].attention_heads:
                found[i]["heads"] = heads.reshape(*heads.shape[:2], *grid).numpy()
            geometry[i] = (grid, preprocess, input_size)
        for i, parts in found.items():
            if i in failed:
                continue
            grid, preprocess, input_size = geometry[i]
            maps = parts[False]
            out[i] = AttentionMaps(
                maps,
                parts.get(True),
                tuple(range(maps.shape[0])),
                preprocess,
                input_size,
                head_maps=parts.get("heads"),
            )
        for i, reason in failed.items():
            out[i] = EvalFailure(f"hf-mllm attention: {reason}")
        return out

    def close(self) -> None:
        model = getattr(self, "model", None)
        if model is None:
            return
        self.model = None
        if str(getattr(self, "device", "cpu")).startswith("cuda"):
            self.torch.cuda.empty_cache()
