"""Plausible Chinese personal names and fake phone numbers, drawn deterministically."""

# Common surnames, most frequent first; earlier ones are drawn more often.
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江"
    "史顾侯邵孟龙万段钱汤尹黎易常武乔贺赖龚文"
)

# Common given names: two-character ones, and single characters for short names.
GIVEN_NAMES = (
    "建国 建华 建军 志强 志刚 志明 国强 国庆 海涛 海燕 海波 晓明 晓东 晓燕 晓丽 丽娟 丽华 秀英 秀兰 "
    "桂英 桂兰 玉兰 玉梅 凤英 春梅 春燕 红霞 红梅 文静 文博 文华 雪梅 雪莲 静怡 婷婷 欣怡 佳怡 "
    "子涵 梓轩 浩然 宇轩 一诺 思远 俊杰 俊峰 明辉 明远 振华 振东 德胜 永强 永刚 立新 立伟 卫东 "
    "卫国 庆华 庆丰 兆丰 宏伟 宏亮 继红 新民 爱华 爱民 淑珍 淑芬 美玲 慧敏 慧芳 瑞雪 嘉怡 鹏飞 "
    "云飞 成龙 广才 德明 长青 书文 泽宇 天佑 若曦 可馨"
).split()
GIVEN_SINGLE = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚辉玲华飞鑫波宁俊浩亮红斌婷梅琳颖鹏宇"


class NameMaker:
    """Draws unique full names (姓 + 1 or 2 given characters) from a shared Random."""

    def __init__(self, rng):
        self.rng = rng
        self.used = set()

    def _surname(self):
        # Triangular weighting: the common surnames at the front come up more often.
        index = int(self.rng.triangular(0, len(SURNAMES), 0))
        return SURNAMES[min(index, len(SURNAMES) - 1)]

    def _given(self):
        if self.rng.random() < 0.25:
            return self.rng.choice(GIVEN_SINGLE)
        return self.rng.choice(GIVEN_NAMES)

    def name(self):
        for _ in range(1000):
            candidate = self._surname() + self._given()
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate
        raise RuntimeError("ran out of distinct names")


def staff_phone(number):
    """Fake staff mobile numbers in a reserved-looking block: 1390000xxxx."""
    return f"1390000{number:04d}"


def resident_phone(rng):
    """A fake resident phone number: 13x/15x/18x prefix with 0000 in the middle."""
    prefix = rng.choice(("135", "136", "138", "139", "150", "151", "158", "186", "187", "188"))
    return f"{prefix}0000{rng.randrange(10000):04d}"
