"""Network configurations: frozen dataclasses with named factories, and the builders that read them.

The modules themselves take explicit keyword arguments; only these builders
know about configs. Sizes (conv MACs per megapixel, counted by model_stats):
default perception 2.7 GMAC/MP (budget 3), default deblur + SFT ~9.2 GMAC/MP
(budget 10).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

from burstdeblur.export.nets.deblur_net import DeblurNet
from burstdeblur.export.nets.peer_net import PeerNet
from burstdeblur.export.nets.perception_net import PerceptionNet
from burstdeblur.export.nets.sft_net import SFTNet


@dataclass(frozen=True)
class PerceptionConfig:
    # A wide 1/8 bottleneck is cheap in MACs (1/64 of the pixels) and gives the net context to judge how far
    # the motion reaches; it also keeps the INT8 file under 30% of the FP32 one (container overhead is fixed).
    widths: tuple[int, int, int, int] = (4, 8, 16, 56)
    depth: int = 2
    first_depth: int = 2
    bottleneck_dilations: tuple[int, ...] = (1, 1)

    @staticmethod
    def default() -> "PerceptionConfig":
        return PerceptionConfig()

    @staticmethod
    def dilated() -> "PerceptionConfig":
        """The default's weights and MACs with a dilated 1/8 bottleneck: an output pixel sees 77 px each way
        instead of 45 (the two 1/8 convs reach 2 and 4 px at that level instead of 1 and 1; measured in tests)."""
        return PerceptionConfig(bottleneck_dilations=(2, 4))

    @staticmethod
    def tiny() -> "PerceptionConfig":
        return PerceptionConfig(widths=(2, 4, 4, 8), depth=1, first_depth=1, bottleneck_dilations=(1,))


@dataclass(frozen=True)
class DeblurConfig:
    widths: tuple[int, int, int, int] = (8, 16, 32, 96)
    depth: int = 2
    first_depth: int = 1  # full-resolution convs are the costliest
    modulate: tuple[int, ...] = (3,)  # the bottleneck, as in patent fig. 8
    sft_hidden: int = 32
    sft_depth: int = 2

    @staticmethod
    def default() -> "DeblurConfig":
        return DeblurConfig()

    @staticmethod
    def tiny() -> "DeblurConfig":
        return DeblurConfig(widths=(4, 4, 8, 8), depth=1, first_depth=1, sft_hidden=4, sft_depth=1)

    @staticmethod
    def no_map() -> "DeblurConfig":
        """Ablation: the same U-Net with no blur map. Wider bottleneck to spend the SFT's MACs."""
        return DeblurConfig(widths=(8, 16, 32, 104), modulate=())

    @staticmethod
    def multi_level() -> "DeblurConfig":
        """Ablation: modulate at 1/4 and 1/8 resolution."""
        return DeblurConfig(modulate=(2, 3))


@dataclass(frozen=True)
class PeerConfig:
    """The NAFNet-style peer of the evaluation (peer_net.py). Width 12: 9.21 GMAC/MP, next to the default's 9.19."""
    width: int = 12
    encoder_blocks: tuple[int, int, int] = (1, 1, 1)
    middle_blocks: int = 1
    decoder_blocks: tuple[int, int, int] = (1, 1, 1)

    @staticmethod
    def default() -> "PeerConfig":
        return PeerConfig()

    @staticmethod
    def tiny() -> "PeerConfig":
        return PeerConfig(width=4)


PERCEPTION_CONFIGS = {"default": PerceptionConfig.default, "dilated": PerceptionConfig.dilated,
                      "tiny": PerceptionConfig.tiny}
DEBLUR_CONFIGS = {"default": DeblurConfig.default, "tiny": DeblurConfig.tiny, "no-map": DeblurConfig.no_map,
                  "multi-level": DeblurConfig.multi_level, "nafnet-peer": PeerConfig.default,
                  "nafnet-peer-tiny": PeerConfig.tiny}


def build_perception(config: PerceptionConfig) -> PerceptionNet:
    return PerceptionNet(widths=config.widths, depth=config.depth, first_depth=config.first_depth,
                         bottleneck_dilations=config.bottleneck_dilations)


def build_deblur(config: DeblurConfig | PeerConfig) -> tuple[DeblurNet | PeerNet, SFTNet | None]:
    if isinstance(config, PeerConfig):
        return PeerNet(width=config.width, encoder_blocks=config.encoder_blocks, middle_blocks=config.middle_blocks,
                       decoder_blocks=config.decoder_blocks), None
    deblur = DeblurNet(widths=config.widths, depth=config.depth, first_depth=config.first_depth,
                       modulate=config.modulate)
    if not config.modulate:
        return deblur, None
    sft = SFTNet(feature_channels=deblur.feature_channels(), scales=deblur.feature_scales(),
                 hidden=config.sft_hidden, depth=config.sft_depth)
    return deblur, sft


def config_json(config) -> dict:
    return {"type": type(config).__name__, **asdict(config)}


def modules_of(*nets: nn.Module | None) -> list[nn.Module]:
    return [n for n in nets if n is not None]
