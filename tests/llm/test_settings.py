"""Backend choice: flags win over the environment; a base URL alone means openai."""

from medbench.llm.settings import DEFAULT_MODEL, LLMSettings, default_cache_path


def test_default_is_the_offline_template_backend(monkeypatch):
    for name in ("MEDBENCH_LLM", "MEDBENCH_LLM_BASE_URL", "MEDBENCH_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    settings = LLMSettings.resolve()
    assert settings.backend == "template" and settings.cache_file is None


def test_environment_then_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("MEDBENCH_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("MEDBENCH_LLM_MODEL", "env-model")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("MEDBENCH_CACHE_DIR", str(tmp_path))
    settings = LLMSettings.resolve()
    assert (settings.backend, settings.base_url, settings.model) == (
        "openai",
        "http://127.0.0.1:9/v1",
        "env-model",
    )
    assert settings.cache_file == tmp_path / "llm-responses.sqlite" == default_cache_path()
    assert "sk-secret" not in repr(settings)  # the key never shows in logs
    flagged = LLMSettings.resolve("vllm", None, "flag-model", concurrency=4)
    assert (flagged.backend, flagged.model, flagged.concurrency) == ("vllm", "flag-model", 4)


def test_default_model_is_the_papers_llama(monkeypatch):
    monkeypatch.delenv("MEDBENCH_LLM_MODEL", raising=False)
    assert (
        LLMSettings.resolve("openai").model
        == DEFAULT_MODEL
        == ("meta-llama/Meta-Llama-3-70B-Instruct")
    )
