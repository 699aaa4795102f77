"""Cues in normalized chat text that the writer is under 18 (category ``minor``): an age
(我16岁, 我今年十五, 人家才14), a school year (我才初二, 还在上高一, 我是初中生, 小学六年级), or
未成年 said of oneself (我未成年, 还没成年, 不满18).

What is said of someone else or of the past does not count: 我女儿16岁, 我弟弟上初二, 我16岁那年,
我高一的时候, 我在教初三, 未成年人保护法; nor 初二 as a date (我初二回老家: the second day of
the new year).  ``AGE_ASKED`` finds the question (你多大了, 几岁) that makes a bare number in
the other party's reply an age.  Pure: no I/O.
"""

from __future__ import annotations

import re

from moderation.normalize import pattern_form

_ME = r"(?:我|人家|本人|俺|偶(?![尔像然遇数像发]))"  # 偶: 我 in chat slang (round 7)
_AGE = r"(?:1[0-7])"
_NOT_PAST = (
    r"(?!岁?(?:那|的时候|时|就|以前|之前|开始)|[0-9]|年|月|号|点|分|块|元|个|斤|米|cm|kg|万|千|次"
    r"|级(?!生))"
)
_GRADE = r"(?:初[1-3]|高[1-3]|小学[1-6]年级|初中[1-3]年级|[1-9]年级)"
_NOT_DATE = r"(?!回|去|那|的时候|时|就|开始|以前|之前|到|走亲戚|拜年)"

_NOT_PAST_CLAUSE = r"(?!的时候|时|那|以前|之前|前|毕业|开始)"
_CLAUSE_START = r"(?:^|(?<=\n)|(?<=[,，。!！ ~]))"
# Born in these years: under 18 throughout 2026 (the year these rules were written; move on as
# the years pass, or they read adults as minors: 09 turns 18 in 2027).
_MINOR_BIRTH_YEAR = r"(?:(?:20)?09|(?:20)?1[0-6])"

_MINOR = [
    rf"{_ME}(?:其实|真的|实际上)?(?:今年|现在|才|刚|刚满|只有|还|也|就|已经|都|虚岁|周岁|实岁){{0,2}}"
    rf"{_AGE}(?:岁|周岁)?{_NOT_PAST}",
    # no 我: 虚岁17, 今年才15, 人家还小，才16 (才/刚/虚岁 say it is the writer's own age)
    rf"{_CLAUSE_START}(?:今年|现在)?(?:才|刚|刚满|只有|虚岁|周岁|实岁){_AGE}(?:岁|周岁)?"
    r"(?=$|\n|[ ,，。!！~啦呀哦呢了])",
    # a school the writer is in now: 刚上初中, 还在读高一, 我初中生, 我是09年的
    rf"(?:{_CLAUSE_START}|{_ME})(?:今年|现在|刚|才|还在|正在|在|还|刚刚){{0,2}}(?:上|读|念)"
    rf"(?:初中|高中|小学|初[1-3]|高[1-3]){_NOT_PAST_CLAUSE}(?!的学生|老师)",
    rf"{_ME}(?:是|还是|只是|就是)?(?:个|1个|1名)?(?:初中生|中学生|高中生|小学生){_NOT_PAST_CLAUSE}",
    rf"{_CLAUSE_START}(?:还是|就是|只是)(?:个|1个)?(?:初中生|高中生|小学生|中学生){_NOT_PAST_CLAUSE}",
    rf"{_ME}(?:是)?{_MINOR_BIRTH_YEAR}(?:年)?(?:的|生|出生|后)(?!时候|那)",
    r"(?:明年|后年|还有[0-9]年)(?:才|就)?(?:成年|满18)",
    rf"(?:{_CLAUSE_START}|{_ME})(?:明年|今年|马上|快|刚|刚刚|准备|还要|要|就要|就|下个月|下周|后天|明天){{1,2}}中考(?!的)",
    rf"{_ME}(?:刚)?中考(?:完|结束|考完)|{_CLAUSE_START}(?:刚|终于)?中考(?:完了|结束了|考完了)",
    rf"(?:^|(?<=\n)){_AGE}岁(?:了|啦|呀|哦|呢)?[,，]?(?:还)?(?:没成年|未成年|没满18)",
    rf"{_ME}(?:今年|现在|才|刚|还|也|就)?(?:在|是)?(?:上|读|念)?{_GRADE}{_NOT_DATE}",
    rf"(?:还在|正在|刚|才|刚刚)(?:上|读|念){_GRADE}{_NOT_DATE}",
    rf"{_ME}?(?:是|还是|只是)(?:个|1个|1名)?(?:初中生|中学生|高中生|小学生|初中的学生)",
    r"(?:^|(?<=\n))小学[1-6]年级(?!的时候|时|那)",
    rf"{_ME}(?:还|是|还是|才)?(?:个)?未成年(?!人)|(?:还|都)?没成年|未满18|不满18|没满18|不到18(?:岁)?(?!个|块|元|分)",
    r"未成年(?:可以|能|能不能|可不可以|也)",
    # the age alone at a clause's start, said of now: 今年十四, 今年15了
    rf"{_CLAUSE_START}(?:今年|现在){_AGE}(?:岁|周岁)?(?=$|\n|[ ,，。!！~啦呀哦呢了])",
    r"没到18|不够18|还差[0-9]+(?:个月|年|天|岁)?(?:才)?(?:满|到)?18",
    # school life said of oneself now: 我刚放学, 我们初中不让带手机
    rf"{_ME}(?:刚|才|刚刚|还没)?放学(?!了?(?:去)?接)(?![^,，。\n]{{0,6}}(?:的时候|那时|时))"
    r"|(?:我|我们)(?:今天|明天|周末)?(?:要)?开家长会",
    r"我们(?:初中|小学|高中|初[1-3]|高[1-3])(?!的时候|那时|时|毕业|同学|老师)",
    r"(?<!批改)(?<!检查)(?:寒假|暑假)作业(?:还没|没|写不完|好多|太多|没写)"
    r"|(?<!是)(?<!当)班主任(?:说(?![的得](?:对|没错|有道理))|让|不让|要求|收了|没收|又)|我们班(?:的)?班?主任"
    rf"|{_CLAUSE_START}(?:刚|才|刚刚)?下(?:晚自习|早自习)(?!的)|偷偷用(?:我)?(?:爸|妈|爸爸|妈妈|家长)(?:的)?手机"
    r"(?![^\n]{0,8}(?:小时候|以前|那时|当年))",
    # round 7: one's own grade at a school event, a new student of a grade (初2组的, 高1新生)
    rf"{_ME}(?:报了|参加了?|是|在)[^\n]{{0,10}}(?:初[1-3]|高[1-3])(?:组|年级组)(?!的?(?:老师|教练|裁判))|(?:初[1-3]|高[1-3])新生(?:报到|报道|入学|军训)"
    r"(?![^\n]{0,10}(?:儿子|女儿|孩子|侄|外甥|学生))",
    rf"{_CLAUSE_START}(?:初中生|高中生|小学生|中学生|{_GRADE}(?:学生党?|新生))(?:1枚|1个|哦|啦|呢)?"
    r"(?=$|\n|[ ,，。!！~])",
    r"(?:成年|18岁?)[^\n]{0,14}(?:我)?还差[0-9]+(?:个月|年|岁)",
    # Taiwan's school years (國三 -> 国3) and its junior-high exam: 我国3, 还在读国2, 要会考了
    rf"{_ME}(?:今年|现在|才|刚|还|也|就)?(?:在|是)?(?:上|读|念)?国[1-3]"
    r"(?![0-9]|年|月|日|号|大|个|种|位|次|亿|万|千|百|成|倍|%|点|部|家|队)",
    r"(?:还在|正在|刚|才)(?:上|读|念)国(?:[1-3]|中)|(?:下个月|明年|马上|快)要?会考",
    # the writer's class, the youngest in it: 我们班同学都16岁, 我最小才15
    rf"我们班(?:的)?(?:同学|人)?(?:都|大多|基本都|全)?(?:是)?{_AGE}岁|我最小(?:才|只有){_AGE}",
    # asking whether an age may sign up, or using a parent's ID to: 13岁能注册吗, 用的我爸的身份证
    rf"(?:^|(?<=\n)|(?<=[,，。!！ ~])){_AGE}岁(?:的)?(?:能|可以|可不可以|能不能|也能)"
    r"(?:注册|玩|用|聊|充|下单)",
    r"用(?:的)?(?:我)?(?:爸|妈|爸爸|妈妈|家长|老爸|老妈)(?:的)?身份证",
    # told by a parent or teacher that one is under age: 妈妈说未成年不能玩
    r"(?:妈|爸|妈妈|爸爸|家长|老师|班主任)说(?:我)?(?:还)?(?:是)?未成年(?!人)",
    # a school day of one's own: 班主任把我手机收了, 初1的晚自习, 我初中的
    r"(?:初[1-3]|高[1-3]|国[1-3])学生党|班主任把我(?!们)|(?:初[1-3]|高[1-3]|国[1-3])的晚自习",
    rf"{_ME}(?:是)?(?:初中|高中|小学)的(?=$|\n|[ ,，。!！~]|偷偷)",
    # just out of primary or junior school, or years short of 18: 我刚小学毕业, 差2年才成年
    rf"{_ME}(?:刚|才|今年|刚刚)(?:小学|初中)毕业(?!的时候|那|时)|(?<!都)差[0-9]+(?:个月|年)(?:才)?(?:成年|满18(?![0-9万千元块]))",
    r"(?:明年|后年)(?:才|就)?(?:要)?高考|(?<![0-9])1[0-7] ?(?:y/?o|years? old|yrs)(?![a-z])"
    r"|(?<![a-z])(?:i'?m|i am) ?1[0-7](?![0-9])|(?<![a-z])shi ?(?:san|si|wu|liu|qi) ?sui(?![a-z])",
    # round 8: school life said of oneself, now.  A school exam with a parent's or teacher's
    # reaction to it, 月考 (no university has one), 中考 counted down or feared.
    r"(?:月考|期中考试?|期末考试?)[^\n]{0,16}(?:我妈|我爸|爸妈|家长|班主任)[^\n]{0,4}"
    r"(?:打死|骂死|揍|骂|杀了|收拾)我"
    r"|(?:(?:明天|后天|下周|今天|马上|又要|要|快)月考|月考(?:考砸|没考好|又|成绩|排名|完|倒数))"
    r"(?![^\n]{0,10}(?:监考|出卷|出题|改卷|阅卷|批卷|学生))"
    r"|中考倒计时|(?:怕|要是|万1|肯定)?考不上(?:高中|重点高中|普高)",
    # the class teacher acting on the writer: 班主任收手机, 班主任叫家长了, 被请家长
    r"(?<!是)(?<!当)班主任(?:今天|刚才|又|今天又)?(?:收|叫家长|请家长|找我|骂我|点我|罚我)|被(?:叫|请)家长"
    r"|(?:上课|课上|课间)(?:玩手机|睡觉|说话)被(?:抓|收|没收|发现|逮)",
    # spending pocket money, or a parent's rule on spending: 用我压岁钱充的, 我妈不让我充钱
    r"(?:用|拿|花)(?:我的?|自己的?)?压岁钱(?:充|买|刷|打赏|玩|给)"
    r"|(?:我妈|我爸|爸妈|家长)不(?:让|给|准)我(?:充钱|充值|花钱|玩手机|用手机|打赏)",
    # the grade now, said without 我: 现在初2下学期, 初3党, 高1新生好紧张
    rf"{_CLAUSE_START}(?:现在|今年)(?:在|是)?(?:上|读|念)?{_GRADE}{_NOT_DATE}"
    r"|(?:初[1-3]|高[1-3]|国[1-3])(?:上|下)学期|(?:初[1-3]|高[1-3]|国[1-3])党"
    r"|(?<!带)(?<!教)(?<!接)(?:初[1-3]|高[1-3])新生(?!的?(?:家长|老师|班主任|军训教官))"
    r"(?![^\n]{0,10}(?:儿子|女儿|孩子|侄|外甥|学生))",
    # round 9: a school day still ahead of the writer (明天还要上早自习, 今晚有晚自习), not a
    # teacher's duty (看/值/管晚自习)
    r"(?<![看值守管查带盯])(?:上|有|去|赶)(?:早自习|晚自习|早读)(?!的?(?:老师|值班|学生))"
    r"|(?:早自习|晚自习)(?:要)?(?:迟到|下课|才下|刚下|还没下)",
    # the junior-high exam counted down, or a grade and a school exam together (中考还有3个月,
    # 高1 数学月考才考了60多)
    r"(?:离)?中考(?:还有|还剩|只剩|就剩|只有)(?:不到)?[0-9]+(?:个月|天|周|星期)"
    rf"|{_CLAUSE_START}(?:初[1-3]|高[1-3]|国[1-3])(?=[ ,，])[^\n]{{0,12}}(?:月考"
    rf"|期中|期末|考试|考了|作业|班主任|家长会)",
    # a parent's or teacher's hand on the writer's day: punished for spending, sent to bed,
    # the phone taken (被我爸发现要挨打, 我妈说10点必须睡觉, 老师把我手机收了)
    r"(?:月考|期中|期末|考试|成绩)[^\n]{0,16}(?:我妈|我爸|爸妈"
    r"|家长)[^\n]{0,4}(?:要|会|肯定)?(?:气疯|气死|发火|打我"
    r"|揍我)"
    r"|被(?:我)?(?:爸|妈|爸妈|爸爸|妈妈|家长)(?:发现|知道)[^\n]{0,6}(?:挨打|打死|揍|没收|骂死)"
    r"|(?:我妈|我爸|爸妈|家长|家里)(?:说|规定|要求|让我)[^\n]{0,4}(?:[0-9]+"
    r"|十[12]?)点(?:前|之前)?(?:必须|得|就得|就要|要)(?:睡觉"
    r"|上床|关机|交手机)"
    r"|(?:老师|班主任|班导)(?:把我|收了我|没收了?我)(?:的)?手机"
    r"|手机(?:被|让)(?:老师|班主任)(?:收|没收)",
    # pocket money: spent here, or counted by the week (压岁钱都充这里了, 零花钱1周就50)
    r"(?:压岁钱|零花钱|零用钱)(?:都|全|全都|全部)?(?:充|刷|打赏|花在)(?:这|这里|给你|在这|了)"
    r"|(?:零花钱|零用钱)(?:1周|每周|1星期|每星期|1天|每天)(?:就|才|只有|只)[0-9]+"
    r"|我们学校(?:的)?(?:初中部|小学部)(?!的?(?:老师|学生|家长|招生))"
    r"|家长会[^\n]{0,3}(?:我妈|我爸|爸妈|我爸妈)(?:要|会)?(?:去|来)",
    # round 10: a grade said with how it feels now (初3好累, 高2真难), homework still owed or
    # one's own school's (寒假作业还有1大半, 初中作业怎么这么多), an exam ahead in a teacher's
    # words (老师说中考体育要考1千米), a parent who must not find out (我妈要是知道我月考排名),
    # a parent's rule by any name (妈妈不让我玩手机), the class teacher at the writer today,
    # school just out (放学了 今天小测又没及格), in English "only 15"
    r"(?<![0-9年])(?:初[1-3]|高[1-3]|国[1-3])(?:好|真|太|也太|真的)(?:难|累|苦|烦|卷)"
    r"|(?:寒假|暑假|国庆|周末)作业(?:还有|还剩)[^\n]{0,4}(?:没|要)"
    r"|(?:初中|高中)(?:的)?作业(?:怎么|好|太|真|也太)(?:这么)?多"
    r"|(?:老师|班主任)(?:说|让|要求|讲)[^\n]{0,10}(?:中考|月考|小测|期末考|期中考|体测)"
    r"|中考体育|体育中考"
    r"|(?:我妈|我爸|爸妈|家长|妈妈|爸爸|我爸妈)(?:要是|如果|万1)(?:知道|发现)[^\n]{0,12}(?:月考|成绩"
    r"|排名|考试|没及格|不及格|分数)"
    r"|(?<!我)(?<!他)(?<!她)(?:妈妈|爸爸|老妈|老爸)不(?:让|给|准)我(?:充钱|充值|花钱|玩手机|用手机|打赏)"
    r"|(?<!是)(?<!当)班主任(?:今天|刚才|刚|上课|又)(?:又)?(?:骂|罚|批评|点名|找)(?:了)?我"
    r"|(?:月考|小测|随堂测验?)(?:又|也|还)?(?:没及格|不及格|考砸|年级排名|排名)"
    rf"|{_CLAUSE_START}(?:刚|才)?放学了"
    r"(?![^\n]{0,10}(?:接|买|孩子|儿子|女儿|闺女|娃|弟|妹|学生|侄|外甥))"
    r"|(?<![a-z])(?:i'?m|i am) (?:only|just) ?1[0-7](?![0-9])"
    # the birthday that is still ahead (下个月才满16岁, 过几天就满15了)
    r"|(?:下个月|下周|明年|过几天|过两天|还有[0-9]+(?:天|个月))(?:才|就)?满1[0-7](?:岁|周岁)?(?![0-9万千])",
    # round 11: a boarding pupil's night (我住校 10点熄灯, 宿管查寝), a grade's own teacher,
    # homework or training (初3的作业, 初1的教官, 高2的班主任), homework that gates going online
    # (写完作业才能上线), tutoring ahead (周末要去补课), the phone taken by a parent (我爸把手机
    # 没收了) and play on a study tablet, pocket money handed out by a parent by the week
    r"(?:我|在)住校[^\n]{0,12}(?:熄灯|查寝|宿管|偷偷|玩手机|不让)|(?:熄灯|查寝)(?:以后|之后|后)?[^\n]{0,8}(?:偷偷|躲被窝|玩手机)"
    r"|(?<![0-9年月正])(?:初[1-3]|高[1-3])(?:的)?(?:作业|教官|军训|班主任|数学老师|英语老师|语文老师)"
    r"(?![^\n]{0,4}(?:辅导|家长|招聘|讲义))"
    r"|写完作业(?:才|再|以后才|之后才)(?:能|可以|让)|(?:周末|周6|周日|放学后?|晚上)(?:还)?(?:要|得)去?(?:补课|补习|上补习班)"
    r"|(?:我爸|我妈|爸妈|老爸|老妈|爸爸|妈妈)(?:把|又把)?(?:我的?)?手机(?:给)?(?:没收|收走|藏起来|锁起来)"
    r"|(?:学习平板|学习机|电话手表)(?:偷偷|上)?(?:登|玩|聊|上线)"
    r"|(?<![老婆公])(?:我妈|我爸|爸妈|家里)(?:1周|每周|1星期|每星期|1个月|每个月|每月)?(?:就|才|只)?(?:给|发)(?:我)?[^\n]{0,4}零花钱",
    # round 12: school life only a pupil has (交周记, 早读起不来, 少先队活动, 戴红领巾, 我是护旗手),
    # an ID card not issued yet or a relative's used to sign up, a grade just begun or ahead
    # (高1刚开学, 下学期就是初1的人了, 我小学刚毕业), a grade's own lessons (6年级的数学), a class
    # "already in" a grade (都初3了还扔粉笔头), subject choice, a birthday under 18 just passed,
    # a rank in the year group promised a reward, Taiwan's 国中, a parent's bedtime, English
    # grades and exams (i'm in 8th grade, gcse mocks)
    r"(?<!批改)(?<!改)(?<!检查)(?<!看)(?:交|写|补|赶)周记|周记(?:还没|没写|写不完|要交|本)"
    r"|早读(?:起不来|迟到|要|课)|少先队(?:活动|员|入队|队课)|(?:戴|系|忘带|没带|没戴)红领巾"
    r"|我(?:是|当|被选为?|被选上)(?:护旗手|升旗手)|国旗下讲话"
    r"|还没(?:办|领|有)(?:过)?身份证(?!号)|(?:身份证|身份证号)(?:还)?没(?:办|下来)"
    r"|用(?:的)?(?:我)?(?:哥|姐|哥哥|姐姐|表哥|表姐|堂哥|堂姐|爸|妈|爸爸|妈妈)(?:的)?(?:身份证|号|账号)?注册"
    r"|(?<![0-9年月正])(?:初[1-3]|高[1-3]|国[1-3])(?:刚|才)开学"
    r"|(?:就是|就要上|要上|就上)(?:初[1-3]|高[1-3]|初中|高中)(?:的人)?了"
    rf"|{_ME}(?:小学|初中)(?:刚|才|刚刚)毕业(?!的时候|那|时)"
    r"|(?<![0-9])[1-6]年级(?:的)?(?:数学|语文|英语|作业|题|课)"
    r"|都(?:初[1-3]|高[1-3]|[1-9]年级)了|(?:高[1-3]|初[1-3])?选科(?:我|时)?(?:选了|选的|要选|纠结|后悔)"
    r"|(?:刚|才)?过(?:完|了)1[0-7](?:岁|周岁)(?:的)?生日|(?:考进|考到|进|考)年级前[0-9]+"
    r"|我们(?:国中|国小)|国中(?:老师|班主任|同学)"
    r"|(?:我妈|我爸|爸妈|家长|妈妈|爸爸|老妈|老爸)(?:说|规定|要求|让我)[^\n]{0,4}(?:[0-9]+|十[12]?)点(?:半)?"
    r"(?:前|之前)?(?:必须|得|就得|就要|要)睡(?!不着)"
    r"|(?:明天|明早|明天早上)(?:还)?(?:要|得)上学"
    r"|(?<![a-z])(?:i'?m|im|i am) in (?:[4-9]|1[01])(?:th)? grade(?![a-z])"
    r"|(?<![a-z])(?:gcse|igcse)s?(?![a-z])",
]

MINOR = re.compile("|".join(f"(?:{pattern_form(p)})" for p in _MINOR))
# A match that does not start with 我 (才16, 读初三) says whose age it is only by what came
# before: someone else named just before it (我弟弟今年15岁，读初三) makes it theirs.
SELF = frozenset("我人本俺偶")
THIRD_PARTY = re.compile(
    r"(?:弟|妹|儿子|女儿|闺女|孩子|小孩|娃|侄|外甥|(?<!个)(?<!是)学生|同学|朋友|他|她|表哥|表姐)[^\n]{0,12}$"
)
THIRD_PARTY_LOOKBACK = 14  # characters before a match searched for someone else
# The question that makes a bare number in the reply an age.
AGE_ASKED = re.compile(
    pattern_form(
        r"多大了|多大啊|多大呀|几岁|年龄多少|几年级|成年了(?:吗|没)|你多大(?=$|\n|[?？ ,，])"
        # round 8: one's own age told, then asked back: 22呀 你呢
        r"|(?:^|\n)[1-9][0-9](?:岁)?[呀啊哦呢了啦]?[ ,，]*你呢"
    )
)
BARE_AGE = re.compile(
    # round 9: a grade opening the reply, whatever follows (初2 家长会我妈要去)
    r"(?:^|\n)(?:初[1-3]|高[1-3]|国[1-3]|[1-9]年级)(?=[ ,，])|"
    r"(?:^|\n)(?:(?:1[0-7])(?:岁|周岁)?|初[1-3]|高[1-3]|国[1-3]|[1-9]年级)"
    r"(?:[ ,，]*[^\n]{0,6}?(?:初[1-3]|高[1-3]|国[1-3]|[1-9]年级|初中|高中|小学))?"
    r"(?:[ ,，]*(?:咋了|怎么了|干嘛|咋|怎么|问这个干嘛))?"
    r"[了啦呀哦呢~.。!！]*$"
)
# Round 10: the writer's adult role at a school (我是初中老师, 我教高2, 当班主任): school words in
# the same message are their work, not their school day.
ADULT_ROLE = re.compile(
    pattern_form(
        r"我(?:是|当)(?:个|1名|1个)?[^\n,，。]{0,4}(?:老师|班主任|教练|校长|家长|教导主任)"
        r"|我(?:在)?教(?:初|高|小学|[1-9]年级)|我们老师(?:群|办公室)|(?:监考|阅卷|改卷|出卷)"
    )
)
# A minor's cue after words that put it in the past (2008年奥运会的时候我还在上小学呢).
PAST_BEFORE = re.compile(
    pattern_form(
        r"(?:的时候|那时候?|那年|那会儿?|以前|小时候|当年|那几年"
        # round 10: years ago (10年前我高1)
        r"|(?:[0-9十几多]+|好几|很多|好多)年前"
        # round 11: a calendar year (2011年我读初中), not a birth year (2011年出生, 2011年的)
        r"|(?:19|20)[0-9]{2}年(?!出生|生|的))[^,，。!！?？\n]{0,8}$"
    )
)
PAST_LOOKBACK = 16
# Round 12: school days put in the past anywhere in the message, or the other's asked about (住校
# 那时候晚自习偷偷带手机, 毕业8年了, 你高中是住校吗): the model's minor's cue is not taken there.
PAST_ANYWHERE = re.compile(
    pattern_form(
        r"那时候?|那会儿?|那几年|小时候|当年|以前|上学那|毕业(?:[0-9十几多]+|好几|很多)年"
        r"|(?:[0-9十几多]+|好几|很多|好多)年前|你(?:的)?(?:高中|初中|小学)(?:是|的时候|那会|时|住校)"
    )
)
# Round 10: words that are harmless between adults but, said to someone who has just given a
# minor's cue (or before one), prepare a meeting or secrecy: the chat to be deleted, the parents
# not to be told, the age called unimportant, the other picked up from school or waited for near
# it, a photo in school uniform asked for.  The detector reads these only while a minor's cue is
# recent in the conversation (``window.Risk``), so they cost nothing elsewhere; with one they
# escalate like a meeting or sexual request.
GROOMING = re.compile(
    pattern_form(
        r"(?:聊天记录|记录|消息|对话)(?:都|记得|要)?(?:删|清)|删(?:掉|了|除)?(?:我们的)?(?:聊天)?记录"
        r"|(?:别|不要|不许|千万别)(?:告诉|让|跟)(?:你)?(?:爸|妈|爸妈|爸爸|妈妈|家长|家里|家里人|老师"
        r"|父母|班主任|同学)"
        r"|(?:我们|咱们|咱俩)(?:之间)?的(?:小)?秘密|(?:偷偷|悄悄)(?:出来|溜出来|跑出来)"
        r"|(?<![a-z])age (?:is )?(?:just|only) a number(?![a-z])|年龄(?:不是问题|不重要|没关系"
        r"|只是(?:个|1个)?数字)|(?:小|年纪小)(?:才|更)(?:好|可爱)|成熟(?:1点|点)?的(?:哥哥|叔叔)"
        r"|(?:接|等)你放学|放学(?:后|以后|了)?[^\n]{0,8}(?:等你|接你|找你|见面|出来)"
        r"|(?:你|你们)(?:的)?学校(?:门口|附近|旁边|后门|对面)"
        r"|校服[^\n]{0,10}(?:照|自拍|拍|看|视频)|(?:发|拍|穿)[^\n]{0,6}校服"
        # round 11: the same in English (our little secret, a selfie in pajamas)
        r"|(?<![a-z])(?:our (?:little )?secret|don'?t tell (?:your )?(?:mom|mum|dad|parents)"
        r"|(?:selfie|pic|photo) in (?:your )?(?:pajamas|pyjamas|pj'?s|bed|uniform))(?![a-z])"
        # round 12: the record to be deleted with words between, a cover story for the parents
        # (就说去补课), only the two to know, romance asked about, "grown-up things" taught,
        # photos in exchange for a top-up
        r"|(?:聊天记录|记录)[^\n]{0,4}(?:删|清)|(?:就说|你说|跟家里说|跟你妈说|跟你爸说)(?:去|是去|在)?"
        r"(?:补课|补习|学习|同学家|上课)|(?:就|只有)?(?:咱俩|我俩|咱们俩|我们俩|你我)知道"
        r"|交过(?:男|女)朋友|亲过(?:没有|没|吗|嘴)|接过吻|大人的(?:东西|事)"
        r"|(?:拍|发)(?:几张|张|点|些)?(?:照片|自拍|视频)给我|我(?:帮|给)你充"
    )
)
