"""The three networks: shape contracts, phone-sized MAC budgets, export-safe layers, and the SFT maths."""
import pytest
import torch
from torch import nn

from burstdeblur.export.nets.deblur_net import DeblurNet
from burstdeblur.export.nets.model_stats import count_parameters, gmac_per_megapixel
from burstdeblur.export.nets.net_configs import (DEBLUR_CONFIGS, PERCEPTION_CONFIGS, DeblurConfig, PerceptionConfig,
                                            build_deblur, build_perception, modules_of)
from burstdeblur.export.nets.sft_net import SFTNet

EXPORT_SAFE = (nn.Conv2d, nn.ConvTranspose2d, nn.ReLU, nn.MaxPool2d, nn.AvgPool2d, nn.Identity, nn.Sequential,
               nn.ModuleList)


def all_layers(*nets):
    return [m for net in nets if net is not None for m in net.modules() if type(m).__module__.startswith("torch.nn")]


@pytest.mark.parametrize("name", list(PERCEPTION_CONFIGS))
def test_perception_shapes_and_budget(name):
    net = build_perception(PERCEPTION_CONFIGS[name]())
    x = torch.rand(2, 3, 64, 96)
    out = net(x)
    assert out.shape == (2, 1, 64, 96) and float(out.detach().min()) >= 0.0  # a std map is non-negative
    if name == "default":
        assert gmac_per_megapixel(lambda: net(x[:1]), [net], 64 * 96) <= 3.0


@pytest.mark.parametrize("name", list(DEBLUR_CONFIGS))
def test_deblur_shapes_and_budget(name):
    deblur, sft = build_deblur(DEBLUR_CONFIGS[name]())
    x, m = torch.rand(1, 3, 64, 96), torch.rand(1, 1, 64, 96) * 0.2
    run = (lambda: deblur(x, sft(m))) if sft else (lambda: deblur(x))
    assert run().shape == (1, 3, 64, 96)
    if name != "tiny":
        assert gmac_per_megapixel(run, modules_of(deblur, sft), 64 * 96) <= 10.0


def test_no_map_ablation_spends_the_same_macs():
    x, m = torch.rand(1, 3, 64, 64), torch.rand(1, 1, 64, 64)
    full, sft = build_deblur(DeblurConfig.default())
    plain, none = build_deblur(DeblurConfig.no_map())
    assert none is None
    a = gmac_per_megapixel(lambda: full(x, sft(m)), [full, sft], 64 * 64)
    b = gmac_per_megapixel(lambda: plain(x), [plain], 64 * 64)
    assert abs(a - b) / a < 0.02
    assert abs(count_parameters(full, sft) - count_parameters(plain)) / count_parameters(plain) < 0.02


def test_only_export_safe_layers():
    perception = build_perception(PerceptionConfig.default())
    deblur, sft = build_deblur(DeblurConfig.multi_level())
    layers = all_layers(perception, deblur, sft)
    assert not [m for m in layers if isinstance(m, nn.LeakyReLU)]
    odd = {type(m).__name__ for m in layers if not isinstance(m, EXPORT_SAFE)}
    assert odd <= {"UpBlock"}, odd


def test_untrained_sft_is_identity():
    deblur, sft = build_deblur(DeblurConfig.tiny())
    x, m = torch.rand(1, 3, 32, 32), torch.rand(1, 1, 32, 32)
    for delta, beta in sft(m):  # alpha = 1 + delta
        assert torch.all(delta == 0) and torch.all(beta == 0)
    plain = DeblurNet(widths=deblur.widths, depth=1, first_depth=1, modulate=())
    plain.load_state_dict(deblur.state_dict())
    torch.testing.assert_close(deblur(x, sft(m)), plain(x))


def test_modulation_is_alpha_times_f_plus_beta():
    """Capture F at the bottleneck and check the decoder receives alpha * F + beta."""
    deblur = DeblurNet(widths=(4, 4, 8, 8), depth=1, first_depth=1, modulate=(3,))
    sft = SFTNet(feature_channels=(8,), scales=(8,), hidden=4, depth=1)
    with torch.no_grad():  # a map-dependent transform
        for layer in (sft.alpha[0], sft.beta[0]):
            layer.weight.normal_()
            layer.bias.normal_()
    x, m = torch.rand(1, 3, 32, 32), torch.rand(1, 1, 32, 32)
    seen = {}
    deblur.bottleneck.register_forward_hook(lambda mod, i, o: seen.update(f=o))
    deblur.up2.register_forward_pre_hook(lambda mod, args: seen.update(f_prime=args[0]))
    (delta, beta), = sft(m)
    alpha = 1 + delta
    deblur(x, [(delta, beta)])
    assert alpha.shape == beta.shape == seen["f"].shape == (1, 8, 4, 4)
    torch.testing.assert_close(seen["f_prime"], alpha * seen["f"] + beta)
    assert not torch.allclose(alpha, torch.ones_like(alpha))


def test_shape_contracts():
    net = build_perception(PerceptionConfig.tiny())
    with pytest.raises(ValueError, match="divisible by 8"):
        net(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match=r"\[N, 3, H, W\]"):
        net(torch.rand(1, 4, 32, 32))
    deblur, _ = build_deblur(DeblurConfig.tiny())
    with pytest.raises(ValueError, match="one \\(delta, beta\\) per level"):
        deblur(torch.rand(1, 3, 32, 32))
