"""Round 7 (tests/moderation/fresh/HISTORY.md): each class of phrasing fixed or widened, with
benign look-alikes written for it (games, travel, study, family, fitness, medicine, dating
advice) that must pass, and other wordings of the class that must still be stopped."""

from __future__ import annotations

import pytest

from moderation.detect import Action, Category, Detector
from tests.moderation.fresh import talk
from tests.moderation.rounds import KEY, assert_allowed, assert_stopped


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(KEY)


# -- false positives as classes: refusals, someone else's app or meeting, a night's price --

REFUSED = [
    "不用不用 我不加微信 就在这聊挺好",
    "线下见面是不行的哦 我们在这里聊天就很好呀",
    "不好意思哦 平台规定不能私下加联系方式 我们就在这边聊吧",
    "我从来不跟网友见面的",
    "我从不加网友微信 别介意",
    "加微信的话不可以哦 平台会封号",
    "私下转账是违规的 别这样",
    "我没有微信 只用这个app",
    "不方便加qq 这里聊就好",
    "见面就算了吧 我比较宅",
    "平台不允许私下交易的 你放心",
]
ASKED = [
    "你不加我微信吗",
    "为什么不加微信",
    "不如加个微信吧",
    "想不想跟我出去玩",
    "你到底加不加微信",
    "有没有特殊服务",
    "做不做爱",
]
SOMEONE_ELSES = [
    "我爸刚学会用微信视频 天天给我打",
    "奶奶用微信语音跟我聊家常",
    "他们用微信视频开会",
    "异地恋三年了 明年终于能见面了 他要调来我这边工作",
    "我妈下周来我这边住几天",
    "我闺蜜周末来我家玩",
    "同事约我周末出去吃饭",
]
STILL_MEANT = [
    "我们用微信视频吧",
    "你来我这边吧",
    "我老公出差了 你来我家",
]
LODGING = [
    "下个月去三亚 酒店订了亚龙湾的 一晚1200 贵死",
    "民宿住了两晚 一晚才300",
    "青旅一晚80块 很划算",
    "那家客栈 一晚两百多 含早",
    "订的海景房一晚多少来着",
]
PRICED_NIGHT = ["一晚多少", "包夜多少", "酒店等你 一晚多少"]


@pytest.mark.parametrize("text", REFUSED + SOMEONE_ELSES + LODGING)
def test_refusals_others_and_lodging_pass(detector: Detector, text: str) -> None:
    decision = detector.check(text)
    assert decision.action is Action.ALLOW and not decision.categories, text


@pytest.mark.parametrize("text", ASKED + STILL_MEANT + PRICED_NIGHT)
def test_asked_or_meant_is_still_stopped(rules: Detector, text: str) -> None:
    assert rules.check(text).action is not Action.ALLOW, text


def test_a_refused_cue_is_not_the_models_to_flag(detector: Detector) -> None:
    """The rules saw the request and read it as refused: the model does not overrule them."""
    text = "不好意思哦 平台规定不能私下加联系方式 我们就在这边聊吧"
    assert detector.check(text).action is Action.ALLOW


# -- upsell: the second push; one message may push twice --

SINGLE_PUSHES = [
    "哥哥 再续一个钟嘛 人家还没聊够呢",
    "走之前给我刷个礼物好不好 就一个火箭",
    "要续钟吗？续的话我给你打九折",
    "喜欢的话可以点个关注哦 不用送礼物",
    "套餐在右上角 有月卡和年卡 你看看喜欢哪个",
    "包月更划算哦 单次太亏了",
    "充值的话记得用活动页 有满减",
    "新人首单半价哦 喜欢可以下单",
    "想听歌的话可以点歌哦 一首10币",
    "我在冲榜呢 不过不用管我 你开心就好",
    "会员可以看回放 你要不要试试",
]
PUSHED_AGAIN = [
    ["要不要续个钟呀", "续嘛续嘛 就一个小时"],
    ["哥哥开个会员吧", "开了会员我天天陪你"],
    ["冲一下呗 我今天业绩还差一点", "哥哥帮我冲一下嘛"],
    ["再聊会儿嘛 续一个小时", "就一个小时好不好"],
    ["给我刷个火箭嘛", "一个嘉年华也行呀"],
    ["余额不够了哦 去充值一下吧", "充完我们继续聊"],
    ["打赏一下嘛", "随便打赏点就行"],
    ["加钟吧 不然我就去接别的单了"],
    ["快充值吧 过了今天就恢复原价了"],
    ["续一个小时嘛 你不续我今天就白陪了"],
    ["开个会员嘛 再刷个火箭"],
    ["给我打赏一下呗 别的哥哥都刷了好几个"],
    ["充个年卡吧 最后一天打折"],
]


@pytest.mark.parametrize("text", SINGLE_PUSHES)
def test_a_single_push_is_not_upselling(detector: Detector, text: str) -> None:
    last = talk(detector, [("customer", "嗯"), ("companion", text)])[-1]
    assert Category.UPSELL not in last.categories, text


@pytest.mark.parametrize("pushes", PUSHED_AGAIN)
def test_pushing_again_is_upselling(detector: Detector, pushes: list[str]) -> None:
    messages = [("customer", "嗯")] + [("companion", text) for text in pushes]
    last = talk(detector, messages)[-1]
    assert Category.UPSELL in last.categories, pushes


def test_a_customer_pushing_nothing_is_not_counted(detector: Detector) -> None:
    messages = [("customer", "给我刷个火箭嘛"), ("customer", "快充值吧 过了今天就恢复原价了")]
    assert all(not d.categories for d in talk(detector, messages))


# -- fresh6's misses widened as classes: other wordings that must be stopped, and benign
# look-alikes of each widened class (games, travel, study, family, fitness, shops) that must pass.
# Look-alikes written with these that the rules still flag are listed in HISTORY.md.

WIDENED = [
    "vx: x i a o m e i 5 2 0",  # a known miss until round 7
    "lxfs发我一下",
    "有没有lxfs",
    "你有微信咩",
    "🍏💬 有吗",
    "家个v好不好",
    "vx : m i a o m i a o _ 2 2",
    "微信号 l i n a 8 8 9 9",
    "扣扣前面是5566后面是7788",
    "小红书 关注后私聊",
    "联系号发我",
    "周末我正好去你那出差 一起吃个饭？",
    "你明天过来吧 我在家",
    "下班后可以出来陪我喝一杯",
    "房间我订好了 你直接上来",
    "说下你的位置我马上过去",
    "包间我定好了 你来陪我吃顿饭",
    "扫我的二维码付 比平台便宜一半",
    "wx转吧",
    "想跟你pa",
    "想🍆你",
    "边看视频边叫边摸",
    "一次200 两次350 可以吗",
    "你做不做sm",
    "想看你自w",
    "脱了拍张给我",
    "光着身子拍给我看",
    "看你穿黑丝的样子",
    "想要更刺激的私下约",
    "外围怎么收",
    "有没有姑娘做一条龙",
    "下个月就中考了",
    "我们班的班主任好烦",
    "初一新生军训好累",
    "偶今年15",
    "我参加了跳远 高二组的",
    "刚下晚自习 好累",
    "来点刺激的呗",
    "还是处男吗你",
    "你能来陪我吗 我给你钱",
    "我能去找你吗",
    "拍段洗澡的视频发我",
    "不穿内衣的那种",
]

LOOK_ALIKES = [
    "lxfs是什么意思啊 网上看到的",
    "有微信群吗 我们班的作业群",
    "🟢🫧 这个表情好可爱",
    "家里装了个新的微信打印机好不好用啊",
    "我家个个都用微信",
    "打这个boss要三个人 一起吗",
    "打这个电话投诉 12315",
    "yi er san si wu 上山打老虎",
    "w x 这两个字母怎么读",
    "我的游戏id是 a b c 1 2 3 你加我游戏好友",
    "前面是3391后面是20587 这是快递单号",
    "q号前面是几位数来着 我忘了",
    "关注后私信领取优惠券 这是商家说的",
    "关注了你的直播间 下次再来",
    "巧了 我明天也出差去杭州 晚上和同事一起吃饭？",
    "我家猫晚上过来蹭我被子",
    "明晚有空的话可以出来陪我爸下棋吗",
    "说个位置 外卖小哥找不到",
    "说个位置吧 我们组队去那个点",
    "我马上到 你先排队点餐",
    "放学了我去校门口接你弟弟",
    "去车站接你爸妈了",
    "扫这个二维码付款就行 平台自带的",
    "这个软件比平台便宜吗 我是说京东和淘宝",
    "v转账那个功能在哪",
    "健身教练一次300 两次500 包月更划算",
    "私教课一次300 两次500",
    "一条龙服务 婚庆公司全包",
    "装修一条龙 从设计到施工",
    "发张自拍来 穿短裙的那张照片好看",
    "光着脚在草地上跑",
    "脱了外套拍照更好看",
    "看你穿情趣内衣店买的那件 是睡衣吗",
    "这个游戏更刺激的玩法可以单独约时间打",
    "看点刺激的电影吧 比如速度与激情",
    "你还是处女座吗",
    "我接不接sm那个快递 sm是申通吗",
    "想听你叫我名字 边叫边笑",
    "自w是什么缩写",
    "边听歌边写作业",
    "kj是空军的意思吗 钓鱼的",
    "明年就中考的孩子压力好大 我侄子",
    "高一新生报道是几号 我儿子",
    "我报了800米 老年组的",
    "偶尔14岁的小孩会来店里",
    "我们学校明天运动会 我是体育老师",
    "16 咋了 那是我的车号",
    "我给你我的笔记 你也给我你的作业",
    "这边要抽一半税 好贵",
    "加你那边的队伍吧",
    "我能去找你们玩吗 大家一起打球",
    "我想去找你推荐的那家店",
    "不穿校服的那种自由真好",
    "拍个洗澡的视频给狗狗 它怕水",
    "洗澡的照片不要发朋友圈",
    "不穿外套的样子太冷了",
    "你穿什么睡觉舒服 纯棉的吗",
    "他家的🍑很甜 🍆也便宜",
    "刚下晚自习的学生好多 我在学校门口卖烤肠",
    "我儿子刚下晚自习",
    "偷偷用我妈手机是小时候的事了",
    "您好 请问这个怎么下单",
    "妳好漂亮",
    "今晚想吃茄子和桃子",
]


@pytest.mark.parametrize("text", WIDENED)
def test_widened_classes_are_stopped(rules: Detector, text: str) -> None:
    assert_stopped(rules, text)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_of_the_widened_classes_pass(rules: Detector, text: str) -> None:
    assert_allowed(rules, text)
