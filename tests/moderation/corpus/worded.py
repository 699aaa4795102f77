"""Positive lines in words: contact requests, offline meetings, payment outside the platform."""

from __future__ import annotations

CONTACT_LINES = """加我微信吧
加个vx聊
你微信多少
留个电话呗
发我你的qq
你有微信吗
加我好友
我们加个微信吧
加v详聊
+v
+vx 私聊
扣扣多少
告诉我你的手机号
交换一下联系方式
有没有qq
去微信上聊吧
来vx聊
下了平台加我
能给个联系方式吗
私下联系我
你手机号是多少
你电话多少
加我Q
加q吧
留个vx
威信多少
薇信有吗
你v信是啥
给个扣扣
企鹅号多少
发个电话号码给我
平台外聊
微信同号
电报有吗
飞机号给我
有陌陌吗
用不用微信
add me on wechat
text me
what's your number
把你微信推给我
方便留个联系方式吗
加个好友呗
你的绿泡泡呢
想加你微信
能加你vx吗
可以加你qq吗
求个联系方式
要个微信
求v
vx发我
微 信 多 少
加 我 微 信
ｖｘ多少
加我Ｖ信
加我𝐯𝐱
加我ⓥⓧ
你的ＱＱ多少
微\u200b信\u200b多少
加\u200b我\u200b微\u200b信
V❤信多少
加我薇❤信
留个手机号给我
我们换个地方聊，加我吧
私聊我
私信我
你的联系方式给我
dm me
给我你的wx
发一下你的vx
你qq号多少呀
有没有微信啊，这里聊不方便
加我扣扣
交换个微信吧
告诉我你的微信号
我想要你的电话
你有没有微信呀
加我！
下次直接找我，加我吧
你的企鹅呢
在平台外联系
""".splitlines()

OFFLINE_LINES = """我们见面吧
什么时候见个面
线下见
出来玩吗
约吗
约不约
今晚开房
去酒店等你
你住哪
发个定位给我
地址发我
来我家吧
要不要见面
我请你吃饭
面基吗
奔现吧
周末出来坐坐
我们同城诶
约个饭
约你出来
咱们约会吧
见一面好不好
私下见
可以线下陪吗
上门吗
包夜多少钱
过夜吗
哪个酒店
我在如家开好房了
发我你家地址
共享个位置
给我你的位置
约个时间见面
我去你那找你
我们可以出来见个面吗
到时候见面聊
陪我去看电影吧
明天一起吃饭吧
晚上来我这
去你家坐坐
约炮吗
一夜情吗
同城约
线下可以吗
想见你本人
能见真人吗
给个地址我过去
我们在哪见
meet up tonight?
send me your address
见 面 吧
线\u200b下\u200b见
约\u200b吗
开\u200b房
我们见❤面吧
想和你见面
要不要出来喝一杯
下班后出来吃个饭
你家在哪个小区
我到你楼下了，出来吧
周六线下约
你在哪个酒店
酒店房号发你
来宾馆找我
想跟你约会
约会吗
我开车来接你
我们去唱歌吧
明晚出来吗
一起去看电影吗
你方便的话我们见一见
我想见见你
约一下
""".splitlines()

PAYMENT_LINES = """私下转账
我们私下交易吧
直接转给我
不走平台便宜点
加我微信付款
发个红包
给我发红包
红包给我
转我200
微信转账给我
支付宝转我
扫我的收款码
我的二维码发你
付款码发我
绕过平台
平台抽成太多了我们私下结
打钱给我
直接打款给我
我支付宝是这个
卡号发你你转过来
v我50
私下给我钱
平台外付款
线下付现金
不通过平台
转账吧
你直接转账给我
paypal me
私聊发红包
微信红包
包个红包给你
加v转账
直接微信给我钱
用支付宝付给我
你把钱打我卡上
汇款到我账户
私\u200b下\u200b转\u200b账
私 下 转 账
发个🧧给我
红包发我
直接给我转
下次不走平台了
私下付
私下打钱
不用平台了，直接付我
给我转钱
转给我就行
我的收款码
扫码付给我
私下交易更便宜
绕开平台吧
发 个 红 包
v我５０
支付宝账号给你
银行卡号发你
给我你的支付宝
打到我卡上
转我支付宝
转到我的微信
平台太贵了，私下结吧
加我付钱
我给你便宜点，私下转
先付我一半
直接付现金
红包转我
给我发个大红包
先转账再聊
转账给我我给你多聊会
私下红包
""".splitlines()


def worded(label: str, lines: list[str]) -> list[tuple[str, str, str]]:
    out = []
    for text in lines:
        if not text.strip():
            continue
        kind = (
            "zero_width"
            if "\u200b" in text
            else "spaced"
            if " " in text.strip() and any("\u4e00" <= c <= "\u9fff" for c in text)
            else "mixed_script"
            if any(
                0xFF00 <= ord(c) <= 0xFFEF or ord(c) > 0x1D000 or 0x2460 <= ord(c) <= 0x24FF
                for c in text
            )
            else "emoji"
            if any(c in "❤🧧" for c in text)
            else "plain"
        )
        out.append((label, kind, text))
    return out
