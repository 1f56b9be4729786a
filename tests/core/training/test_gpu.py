"""GPU checks: mixed precision on CUDA. Skipped cleanly where there is no CUDA device (CI)."""

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from core.models.registry import build_model
from core.runs.train_config import TrainConfig
from core.training.trainer import Trainer, resolve_precision

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _loaders():
    x, y = torch.randn(256, 64, 3), torch.randn(256, 16, 3)
    return DataLoader(TensorDataset(x, y), batch_size=32), DataLoader(TensorDataset(x, y), batch_size=64)


@pytest.mark.parametrize("precision", ["fp16", "bf16"])
def test_mixed_precision_keeps_fp32_master_weights_on_cuda(precision):
    model, _ = build_model("patchtst", seq_len=64, pred_len=16, n_channels=3)
    result = Trainer(model, TrainConfig(epochs=1, precision=precision, device="cuda")).fit(*_loaders())
    assert result.precision == precision and result.peak_memory_mb > 0
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_auto_picks_bf16_where_the_gpu_supports_it():
    precision, _ = resolve_precision("auto", torch.device("cuda"))
    assert precision == ("bf16" if torch.cuda.is_bf16_supported() else "fp16")
