"""Write a SYNTHETIC FAQ catalog of N entries, for the scale benchmark only.

The catalog has the schema of ``data/knowledge/faq.yml`` (it loads with
``bot.knowledge.read_faq``): the shipped entries first, unchanged, then
synthetic entries up to N. **The synthetic entries are not content**: their
``source`` is ``synthetic (scale benchmark, not content)``, their ids start
with ``syn_``, their answers say so, and they must never be shipped or
trained into a model that serves citizens. They exist so that training time,
vocabulary, model size and memory grow as they would with a real catalog of
that size (``benchmarks/knowledge_scale.py``, issue 18 "Scale").

Each synthetic entry is one (domain, subject, aspect) combination, e.g.
失业保险金 x 申领条件: a canonical question and 8-10 citizen phrasings built
from the aspect's question forms, the subject's names, Dongguan's towns, the
domain's agencies, colloquial openings and endings, and situations around the
question made of common nouns (``synthetic_words.txt``, from jieba's
dictionary) so that the vocabulary grows with the catalog as a real one's
does. Combinations are taken in a shuffled order (every domain is represented
at every size), and each entry's text depends only on the seed and its
combination, so a smaller catalog's synthetic entries are the first ones of a
larger catalog's.

Usage (app environment)::

    .venv/bin/python scripts/synthetic_catalog.py --entries 2000 --out /tmp/faq.yml [--seed 18]

With N below the shipped catalog's size, the first N shipped entries are kept
(and no synthetic entry is added).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
REAL_FAQ = ROOT / "data" / "knowledge" / "faq.yml"
#: Common nouns (from jieba's dictionary; the file says which) for the
#: situations citizens describe around their question.
WORDS_FILE = Path(__file__).resolve().parent / "synthetic_words.txt"

SYNTHETIC_SOURCE = "synthetic (scale benchmark, not content)"
SYNTHETIC_DATE = dt.date(2026, 12, 5)
ID_PREFIX = "syn_"
DEFAULT_SEED = 18
MIN_PHRASINGS, MAX_PHRASINGS = 8, 10
ANSWER_MARK = "【合成测试条目，仅用于规模测试，不是政策内容】"
HEADER = (
    "# SYNTHETIC FAQ CATALOG - for the scale benchmark only (benchmarks/knowledge_scale.py).\n"
    "# Written by scripts/synthetic_catalog.py: the shipped entries first, then entries\n"
    f"# with ids '{ID_PREFIX}*' and source '{SYNTHETIC_SOURCE}'.\n"
    "# NOT CONTENT: never ship these entries or train a serving model on them.\n"
)

#: Per domain of faq.yml: the id prefix (as scripts/check_knowledge_faq.py),
#: the agencies answering, and the subjects (the first name is the canonical
#: one, the others are what citizens also call it). Subjects and their names
#: are unique over the whole table.
DOMAINS: dict[str, tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "social_insurance": (
        "si",
        ("东莞市社会保险基金管理中心", "东莞市人力资源和社会保障局"),
        (
            ("企业职工养老保险", "职工养老", "单位养老保险"),
            ("城乡居民养老保险", "居民养老保险", "农村养老保险"),
            ("失业保险金", "失业金"),
            ("工伤保险待遇", "工伤赔偿", "工伤待遇"),
            ("生育津贴", "产假津贴"),
            ("社会保障卡", "社保卡", "社卡"),
            ("灵活就业人员社保", "自由职业社保", "个人交社保"),
            ("社保补缴", "补交社保"),
            ("基本养老金", "退休金", "养老金"),
            ("丧葬补助金", "丧葬费"),
            ("遗属抚恤金", "抚恤金"),
            ("失业补助金", "失业补助"),
            ("伤残津贴", "工伤伤残补助"),
            ("稳岗返还", "稳岗补贴"),
            ("技能提升补贴", "技能补贴", "考证补贴"),
            ("一次性养老保险待遇", "一次性领养老"),
        ),
    ),
    "medical_insurance": (
        "mi",
        ("东莞市医疗保障局", "东莞市社会保险基金管理中心"),
        (
            ("职工医保", "职工医疗保险"),
            ("城乡居民医保", "居民医保", "农村医保"),
            ("门诊共济", "门诊报销"),
            ("大病保险", "大病医保"),
            ("医保个人账户", "医保卡余额"),
            ("异地就医备案", "异地备案"),
            ("特定病种门诊", "门特", "慢特病"),
            ("生育医疗费用", "生孩子医药费"),
            ("医保电子凭证", "医保码"),
            ("医疗救助", "看病救助"),
            ("长期护理保险", "长护险"),
            ("新生儿医保", "宝宝医保", "小孩医保"),
            ("大学生医保", "学生医保"),
            ("医保药品目录", "医保目录"),
            ("医保定点药店", "定点药店"),
            ("医保关系转移", "医保转移"),
        ),
    ),
    "housing_provident_fund": (
        "hpf",
        ("东莞住房公积金管理中心",),
        (
            ("公积金租房提取", "租房取公积金"),
            ("公积金购房提取", "买房取公积金"),
            ("公积金还贷提取", "还贷取公积金"),
            ("公积金离职提取", "辞职取公积金"),
            ("公积金销户提取", "公积金销户"),
            ("公积金贷款额度", "公积金能贷多少"),
            ("公积金组合贷款", "组合贷"),
            ("公积金异地贷款", "异地公积金贷款"),
            ("公积金缴存基数", "公积金基数"),
            ("公积金补缴", "补交公积金"),
            ("公积金转移接续", "公积金转移"),
            ("灵活就业公积金", "个人缴存公积金"),
            ("公积金贷款提前还款", "公积金提前还贷"),
            ("公积金冲还贷", "公积金冲贷"),
            ("公积金账户封存", "公积金封存"),
            ("公积金缴存证明", "公积金证明"),
        ),
    ),
    "household_registration": (
        "hr",
        ("东莞市公安局", "各镇街派出所"),
        (
            ("居住证", "东莞居住证"),
            ("居住证签注", "居住证续签"),
            ("积分入户", "积分落户"),
            ("人才入户", "人才落户"),
            ("投靠入户", "投靠落户"),
            ("新生儿入户", "宝宝上户口", "小孩落户"),
            ("户口迁出", "迁出户口"),
            ("集体户口", "集体户"),
            ("身份证换领", "换身份证"),
            ("临时身份证", "临时身份证明"),
            ("户籍证明", "户口证明"),
            ("港澳通行证", "港澳签注"),
            ("护照", "因私护照"),
            ("居住登记", "暂住登记"),
            ("改名", "更改姓名"),
            ("户口本遗失补领", "户口本补办"),
        ),
    ),
    "education": (
        "edu",
        ("东莞市教育局", "各镇街教育管理中心"),
        (
            ("积分入学", "积分读书"),
            ("公办小学学位", "公办小学"),
            ("公办初中学位", "公办初中"),
            ("民办学校学位补贴", "民办学位补贴"),
            ("幼儿园入园", "上幼儿园"),
            ("普惠性幼儿园", "普惠园"),
            ("中考报名", "中考"),
            ("随迁子女高考", "异地高考"),
            ("转学", "中途转学"),
            ("学籍", "学籍转接"),
            ("义务教育学费", "读书学费"),
            ("校车", "学校接送车"),
            ("课后服务", "课后托管"),
            ("助学金", "学生资助"),
            ("特殊教育", "随班就读"),
            ("成人学历教育", "成人高考"),
        ),
    ),
    "business": (
        "biz",
        ("东莞市市场监督管理局", "各镇街市场监督管理分局"),
        (
            ("个体工商户营业执照", "个体户执照"),
            ("公司设立登记", "开公司"),
            ("公司注销", "注销公司"),
            ("经营范围变更", "改经营范围"),
            ("企业年报", "工商年报"),
            ("食品经营许可证", "食品许可证"),
            ("电子营业执照", "电子执照"),
            ("公司名称核准", "公司取名"),
            ("地址变更登记", "公司搬迁登记"),
            ("股东变更", "股权变更"),
            ("经营异常名录", "经营异常"),
            ("小微企业扶持", "小微企业补贴"),
            ("商标注册", "注册商标"),
            ("电商经营者登记", "网店登记"),
            ("工业产品生产许可", "生产许可证"),
            ("企业开办补贴", "开办补贴"),
        ),
    ),
    "tax": (
        "tax",
        ("国家税务总局东莞市税务局",),
        (
            ("个人所得税汇算", "个税汇算", "退个税"),
            ("专项附加扣除", "个税扣除"),
            ("增值税小规模纳税人", "小规模纳税"),
            ("发票开具", "开发票"),
            ("电子发票", "数电发票"),
            ("契税", "买房契税"),
            ("房产税", "房屋税"),
            ("车船税", "车辆税"),
            ("印花税", "印花"),
            ("个体户定额税", "定期定额"),
            ("税务登记", "办税务登记"),
            ("出口退税", "退税"),
            ("完税证明", "纳税证明"),
            ("城镇土地使用税", "土地使用税"),
            ("残保金", "残疾人就业保障金"),
            ("社保费申报", "社保费缴纳申报"),
        ),
    ),
    "traffic": (
        "tr",
        ("东莞市公安局交通警察支队", "东莞市交通运输局"),
        (
            ("驾驶证换证", "驾照换证"),
            ("驾驶证补领", "驾照补办"),
            ("机动车年检", "车辆年审"),
            ("交通违法处理", "处理违章"),
            ("电动自行车上牌", "电动车上牌"),
            ("机动车转籍", "车辆转籍"),
            ("临时号牌", "临牌"),
            ("驾驶证扣分", "驾照扣分"),
            ("新能源车上牌", "新能源车牌"),
            ("二手车过户", "车辆过户"),
            ("机动车报废", "车辆报废"),
            ("公交卡", "东莞通"),
            ("网约车驾驶员证", "网约车证"),
            ("货车通行证", "货车通行"),
            ("停车收费", "停车费"),
            ("交通事故快处", "事故快处快赔"),
        ),
    ),
    "utilities": (
        "ut",
        ("东莞市水务集团", "东莞供电局", "东莞市燃气公司"),
        (
            ("自来水开户", "水表开户"),
            ("水费缴纳", "交水费"),
            ("阶梯水价", "水价"),
            ("停水通知", "计划停水"),
            ("用电报装", "电表报装"),
            ("电费缴纳", "交电费"),
            ("阶梯电价", "电价"),
            ("停电通知", "计划停电"),
            ("管道燃气开户", "燃气开户"),
            ("燃气费缴纳", "交燃气费"),
            ("燃气安全检查", "燃气安检"),
            ("水表更换", "换水表"),
            ("电表过户", "电费过户"),
            ("充电桩报装", "装充电桩"),
            ("燃气报装", "装燃气"),
            ("供水水质", "自来水水质"),
        ),
    ),
    "labour": (
        "lab",
        ("东莞市人力资源和社会保障局", "各镇街劳动保障监察分局", "东莞市劳动人事争议仲裁院"),
        (
            ("劳动仲裁", "申请仲裁"),
            ("拖欠工资", "欠薪"),
            ("经济补偿金", "离职补偿", "赔偿金"),
            ("加班费", "加班工资"),
            ("劳动合同签订", "签劳动合同"),
            ("试用期", "试用期工资"),
            ("最低工资", "最低工资标准"),
            ("年休假", "带薪年假"),
            ("工伤认定", "认定工伤"),
            ("解除劳动合同", "被辞退"),
            ("劳务派遣", "派遣工"),
            ("女职工产假", "产假"),
            ("工资支付", "发工资日期"),
            ("劳动关系证明", "劳动关系确认"),
            ("农民工工资专户", "工资专户"),
            ("竞业限制", "竞业协议"),
        ),
    ),
    "housing": (
        "hs",
        ("东莞市住房和城乡建设局", "各镇街住房管理部门"),
        (
            ("公共租赁住房", "公租房"),
            ("保障性租赁住房", "保租房"),
            ("共有产权住房", "共有产权房"),
            ("商品房网签", "网签备案"),
            ("二手房交易资金监管", "二手房资金监管"),
            ("房屋租赁登记备案", "租房备案"),
            ("租房押金", "押金"),
            ("物业费", "物业管理费"),
            ("住宅专项维修资金", "维修基金"),
            ("不动产权证", "房产证"),
            ("商品房交付", "收楼"),
            ("人才住房补贴", "人才房补贴"),
            ("城市更新拆迁补偿", "旧改补偿"),
            ("购房资格", "买房资格"),
            ("电梯加装", "加装电梯"),
            ("房屋安全鉴定", "危房鉴定"),
        ),
    ),
    "healthcare": (
        "hc",
        ("东莞市卫生健康局", "各镇街社区卫生服务中心"),
        (
            ("家庭医生签约", "家庭医生"),
            ("儿童预防接种", "小孩打疫苗"),
            ("成人疫苗接种", "成人打疫苗"),
            ("出生医学证明", "出生证"),
            ("免费孕前检查", "孕前检查"),
            ("两癌筛查", "宫颈癌乳腺癌筛查"),
            ("老年人免费体检", "老人体检"),
            ("健康证", "从业人员健康证"),
            ("病历复印", "复印病历"),
            ("无偿献血", "献血"),
            ("预约挂号", "挂号"),
            ("母婴保健", "孕产妇保健"),
            ("精神障碍患者救治", "精神病救助"),
            ("职业病诊断", "职业病"),
            ("医疗纠纷调解", "医疗纠纷"),
            ("互联网医院", "网上看病"),
        ),
    ),
    "civil_affairs": (
        "ca",
        ("东莞市民政局", "各镇街社会事务局"),
        (
            ("结婚登记", "领结婚证"),
            ("离婚登记", "办离婚"),
            ("婚姻登记档案查询", "婚姻状况证明"),
            ("最低生活保障", "低保"),
            ("特困人员供养", "特困供养"),
            ("临时救助", "临时困难补助"),
            ("高龄津贴", "高龄补贴"),
            ("养老机构入住", "进养老院"),
            ("居家养老服务", "居家养老"),
            ("残疾人两项补贴", "残疾人补贴"),
            ("孤儿基本生活费", "孤儿补助"),
            ("殡葬补贴", "火化补贴"),
            ("社会组织登记", "社团登记"),
            ("收养登记", "领养孩子"),
            ("困境儿童保障", "困境儿童"),
            ("老年人优待证", "老人优待卡"),
        ),
    ),
}

#: Display names of the domains, for a shipped catalog that lacks one.
DOMAIN_NAMES = {
    "social_insurance": "社会保险",
    "medical_insurance": "医疗保险",
    "housing_provident_fund": "住房公积金",
    "household_registration": "户籍与居住证",
    "education": "入学教育",
    "business": "商事登记与企业服务",
    "tax": "税务",
    "traffic": "车辆与交通",
    "utilities": "水电气",
    "labour": "劳动纠纷与欠薪",
    "housing": "住房与租赁",
    "healthcare": "医疗卫生",
    "civil_affairs": "民政（婚姻、养老、救助、殡葬）",
}

#: Dongguan's towns, streets and zones (data/towns.yml) with the short forms citizens type.
TOWNS = (
    "莞城", "南城", "东城", "万江", "石碣", "石龙", "茶山", "石排", "企石", "横沥",
    "桥头", "谢岗", "东坑", "常平", "寮步", "樟木头", "大朗", "黄江", "清溪", "塘厦",
    "凤岗", "大岭山", "长安", "虎门", "厚街", "沙田", "道滘", "洪梅", "麻涌", "望牛墩",
    "中堂", "高埗", "松山湖", "滨海湾",
)  # fmt: skip


@dataclass(frozen=True)
class Aspect:
    """What about a subject an entry asks: its canonical question and the
    question forms of its phrasings (``{s}`` subject, ``{t}`` town, ``{a}``
    agency), the short word for generic forms and the answer's body."""

    key: str
    word: str
    question: str
    forms: tuple[str, ...]
    answer: str


ASPECTS: tuple[Aspect, ...] = (
    Aspect("conditions", "申请条件", "{s}需要满足哪些条件?",
           ("{s}要什么条件", "我在{t}上班能不能申请{s}", "{s} 条件 要求",
            "{s}的门槛高吗 我这种情况符合不", "外地户口在{t}可以申{s}吗",
            "想了解下{s}谁能申请", "什么人可以享受{s}"),
           "申请人一般需在东莞参保或居住满规定年限，并符合{a}公布的资格条件；"
           "具体以个人情况审核为准。"),
    Aspect("amount", "标准", "{s}的标准是多少?怎么计算?",
           ("{s}一个月有多少", "{s}能拿多少钱", "{s}是按什么算的", "{s} 金额 计算方法",
            "{t}的{s}标准高不高", "{s}今年涨了没有", "{s}每年都一样吗"),
           "标准按当年公布的基数和比例计算，每年可能调整，个人金额以核定结果为准。"),
    Aspect("time_limit", "办理时限", "{s}一般多久能办好?",
           ("{s}要等多久", "{s}几个工作日出结果", "{s}审批时间", "{s}办了半个月还没好正常吗",
            "{s}最快多久", "{s}周期长不长"),
           "受理后一般在规定的工作日内办结，材料不全或需核查的时间另计。"),
    Aspect("proof", "证明", "{s}需要提供哪些证明?",
           ("{s}要开什么证明", "{s}证明去哪开", "{s}还需要单位证明吗",
            "没有{s}的证明可以吗", "{s} 证明文件", "{s}的证明有效期多长"),
           "一般需身份证明和与事项相关的证明，部分证明可由部门通过数据共享核验，无需另开。"),
    Aspect("non_local", "外地户籍", "外地户籍能享受{s}吗?",
           ("外地人能办{s}吗", "不是东莞户口{s}有份吗", "我是湖南的在{t}住能不能{s}",
            "非莞籍{s}一样吗", "外省户口 {s}", "新莞人{s}有没有限制"),
           "多数事项不限户籍，以在东莞的参保、居住或就业情况为准，个别事项另有户籍要求。"),
    Aspect("overdue", "逾期", "{s}逾期了会怎样?",
           ("{s}过期了怎么办", "{s}超时了还能补吗", "{s}忘了办有什么后果", "{s}逾期 影响",
            "{s}晚了几个月还来得及吗", "错过了{s}的时间怎么办"),
           "逾期可能影响待遇或产生滞纳责任，部分事项可在规定期限内补办，请尽快处理。"),
    Aspect("change", "信息变更", "{s}的信息怎么变更?",
           ("{s}信息写错了怎么改", "{s}换了手机号要不要更新", "{s}改信息",
            "{s}登记的地址搬到{t}了要改吗", "{s}的银行卡能换吗", "{s}资料变更"),
           "信息变更一般可在线上平台提交，或携带身份证明到办事窗口办理，变更后以新信息为准。"),
    Aspect("update", "政策调整", "{s}今年政策有什么变化?",
           ("{s}新政策", "{s}最近是不是改了", "{s}政策调整了吗", "{s} 今年 新规",
            "听说{s}有变化 是真的吗", "{s}明年还一样吗"),
           "政策调整以{a}正式发布的文件为准，调整前已办理的一般按原规定执行。"),
    Aspect("age", "年龄限制", "{s}有年龄限制吗?",
           ("{s}多大年纪能办", "五十岁了还能{s}吗", "{s}年龄 上限", "{s}未成年可以吗",
            "{s}对年龄有要求不", "我爸七十岁{s}还行吗"),
           "年龄要求因事项而异，部分事项对申请人年龄有上下限，超出的可咨询是否有替代办法。"),
    Aspect("result", "结果查询", "{s}的结果怎么查?",
           ("{s}批下来没有去哪看", "{s}审核结果查询", "{s}有短信通知吗", "{s}结果 查询",
            "怎么知道{s}通过没有", "{s}网上能查到吗"),
           "结果一般可在粤省事、广东政务服务网查询，部分事项会以短信告知。"),
    Aspect("appeal", "异议", "对{s}的结果有异议怎么办?",
           ("{s}不服怎么申诉", "{s}没通过能复核吗", "{s}被驳回了还能再申请吗",
            "觉得{s}算错了找谁", "{s} 复议", "{s}结果不对怎么反映"),
           "可在收到结果后的规定期限内申请复核，或依法申请行政复议、提起诉讼。"),
    Aspect("proxy", "代办", "{s}可以请别人代办吗?",
           ("{s}家人能帮我办吗", "{s}本人不在东莞能代办吗", "{s}委托别人",
            "{s}要本人到场吗", "老人行动不便{s}能上门吗", "{s} 代办 委托书"),
           "多数事项可凭委托书和双方身份证明代办，需本人确认或采集信息的事项除外。"),
    Aspect("fee", "收费", "{s}收费吗?",
           ("{s}要钱吗", "{s}是免费的吗", "{s}收多少费用", "{s} 费用",
            "办{s}有人收我钱正常吗", "{s}有没有隐形收费"),
           "政府部门办理一般不收费，法律法规规定收费的按公布标准收取，谨防他人代收费用。"),
    Aspect("both", "同时享受", "{s}能和其他待遇同时享受吗?",
           ("{s}和别的补贴能一起领吗", "领了{s}还能领别的吗", "{s}冲突吗",
            "{s}可以叠加吗", "{s} 重复享受", "已经有{s}了另一个还能申请吗"),
           "部分待遇不能重复享受，需择一领取；可以同时享受的以政策明确列出的为准。"),
    Aspect("validity", "有效期", "{s}的有效期是多久?",
           ("{s}管多久", "{s}几年有效", "{s}到期了要续吗", "{s} 有效期",
            "{s}过了有效期还能用吗", "{s}每年都要重新办吗"),
           "有效期以批准文件或证件载明的为准，到期前可按规定申请延续。"),
    Aspect("suspend", "暂停恢复", "{s}被暂停了怎么恢复?",
           ("{s}停了怎么办", "{s}突然没了", "{s}中断以后还能接上吗", "{s}暂停 恢复",
            "为什么我的{s}被停了", "{s}怎么重新开通"),
           "暂停多因信息核验不通过或条件变化，补齐材料或条件恢复后可申请恢复。"),
    Aspect("refund", "退费", "{s}多交的钱能退吗?",
           ("{s}交多了怎么退", "{s}退钱", "{s}重复交了", "{s} 退费 流程",
            "{s}不想要了钱能退回来吗", "{s}退款多久到账"),
           "多缴或误缴的费用一般可申请退还，核实后退回原账户，到账时间以银行为准。"),
    Aspect("reject", "审核不通过", "{s}审核不通过一般是什么原因?",
           ("{s}为什么没通过", "{s}被退回了", "{s}审核失败", "{s} 不通过 原因",
            "{s}一直审核不过怎么回事", "{s}退件说资料不符"),
           "常见原因是材料不全、信息不一致或不符合条件，可按退回意见补正后重新提交。"),
    Aspect("online", "网上办理", "{s}能在网上办吗?",
           ("{s}手机上能弄吗", "{s}可以不跑窗口吗", "{s}粤省事上有吗", "{s} 线上",
            "{s}在{t}要跑几次", "{s}网上申请入口"),
           "多数事项可在粤省事、广东政务服务网或莞家政务办理，需现场核验的除外。"),
    Aspect("where", "负责部门", "{s}归哪个部门管?",
           ("{s}找哪个部门", "{s}是{a}管的吗", "{s}问谁", "{s} 主管部门",
            "{t}的{s}归谁管", "{s}有问题打哪个电话"),
           "该事项由{a}负责，也可拨打12345热线转相关部门。"),
)  # fmt: skip

#: Forms any aspect can take, with its short word ``{w}``.
GENERIC_FORMS = (
    "{s}{w}", "关于{s}的{w}问题", "{w} {s}", "{t}的{s}{w}是怎样的",
    "问下{s}{w}", "{s}的{w}怎么规定的",
)  # fmt: skip
OPENINGS = ("", "", "", "请问", "你好，", "想问一下", "咨询下", "麻烦问下", "您好 ", "问一下")
ENDINGS = ("", "", "", "?", "？", "谢谢", "急", "呢", "啊")
#: Endings a question that already ends in a particle or mark may still take.
PLAIN_ENDINGS = ("", "", "谢谢", "急")
#: What citizens say around a question (``{n}``, ``{m}`` nouns, ``{t}`` a town).
#: Semantically loose, but it makes the vocabulary grow as real phrasings do:
#: without it a synthetic entry added 14 new character trigrams, an entry of the
#: 316-entry sample catalog adds about 80; with it 300 entries (73 shipped +
#: 227 synthetic) hold 21.1k character trigrams, 12.9k bigrams and 1.46k
#: characters against 24.9k, 14.7k and 1.42k for the 316 real ones.
CONTEXTS = (
    "{t}{n}的，", "做{n}的", "{n}这边", "因为{n}", "家里{n}", "{n}和{m}", "朋友说{n}",
    "我老婆在{n}", "关于{n}，", "公司{n}说", "{n}附近", "搞{n}的", "带{n}{m}",
    "{n}讲", "{t}的{n}", "听{n}说", "{n}的{m}", "有{n}没{m}", "{n}{m}", "{n}，{m}",
)  # fmt: skip
#: The share of phrasings that carry a situation (:data:`CONTEXTS`).
CONTEXT_SHARE = 0.9
ANSWER_TAIL = "详情请咨询{a}或拨打12345；{t}的办事窗口也可解答。"


@dataclass(frozen=True)
class Combination:
    domain: str
    subject: tuple[str, ...]
    aspect: Aspect


def combinations(seed: int = DEFAULT_SEED) -> list[Combination]:
    """Every (domain, subject, aspect), in the seed's shuffled order."""
    combos = [
        Combination(domain, subject, aspect)
        for domain, (_, _, subjects) in DOMAINS.items()
        for subject in subjects
        for aspect in ASPECTS
    ]
    random.Random(seed).shuffle(combos)
    return combos


def capacity() -> int:
    """The most synthetic entries the tables can make."""
    return sum(len(subjects) for _, _, subjects in DOMAINS.values()) * len(ASPECTS)


def load_words(path: Path = WORDS_FILE) -> tuple[str, ...]:
    """The noun list (``#`` lines are comments)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip() for w in lines if w.strip() and not w.startswith("#"))


def _context(rng: random.Random, words: tuple[str, ...]) -> str:
    if rng.random() >= CONTEXT_SHARE:
        return ""
    noun, other = rng.sample(words, 2)
    return rng.choice(CONTEXTS).format(n=noun, m=other, t=rng.choice(TOWNS))


def _fill(form: str, rng: random.Random, combo: Combination, agency: str) -> str:
    return form.format(
        s=rng.choice(combo.subject), t=rng.choice(TOWNS), a=agency, w=combo.aspect.word
    )


def synthetic_entry(
    number: int, combo: Combination, words: tuple[str, ...], seed: int = DEFAULT_SEED
) -> dict[str, Any]:
    """The ``number``-th synthetic entry (1-based), for ``combo``: its text depends
    only on the seed, the combination and ``words`` (:func:`load_words`)."""
    prefix, agencies, _ = DOMAINS[combo.domain]
    rng = random.Random(f"{seed}:{combo.domain}:{combo.subject[0]}:{combo.aspect.key}")
    agency = rng.choice(agencies)
    subject = combo.subject[0]
    question = combo.aspect.question.format(s=subject)
    forms = list(combo.aspect.forms) + list(GENERIC_FORMS)
    rng.shuffle(forms)
    wanted = rng.randint(MIN_PHRASINGS, MAX_PHRASINGS)
    examples: list[str] = []
    for form in forms:
        body = _fill(form, rng, combo, agency)
        opening = "" if body.startswith(("问", "想")) else rng.choice(OPENINGS)
        ending = rng.choice(PLAIN_ENDINGS if body.endswith(("吗", "呢", "不", "?")) else ENDINGS)
        context = _context(rng, words)
        text = (context or opening) + body + ending
        if text != question and text not in examples:
            examples.append(text)
        if len(examples) == wanted:
            break
    town = rng.choice(TOWNS)
    answer = (
        ANSWER_MARK
        + f"{subject}的{combo.aspect.word}："
        + combo.aspect.answer.format(a=agency)
        + ANSWER_TAIL.format(a=agency, t=town)
    )
    return {
        "id": f"{ID_PREFIX}{prefix}_{number:04d}",
        "domain": combo.domain,
        "question": question,
        "answer": answer,
        "source": SYNTHETIC_SOURCE,
        "updated": SYNTHETIC_DATE,
        "sample": True,
        "department": agency,
        "examples": examples,
    }


def build_catalog(
    entries: int, seed: int = DEFAULT_SEED, real_path: Path = REAL_FAQ
) -> dict[str, Any]:
    """The catalog (parsed-YAML form) of ``entries`` entries: the shipped ones
    first, unchanged, then synthetic ones."""
    if entries < 1:
        raise ValueError("a catalog needs at least one entry")
    with real_path.open(encoding="utf-8") as handle:
        real = yaml.safe_load(handle)
    real_entries = list(real.get("entries") or [])
    missing = entries - len(real_entries)
    if missing > capacity():
        raise ValueError(
            f"{entries} entries: at most {len(real_entries) + capacity()} "
            f"({len(real_entries)} shipped + {capacity()} synthetic combinations)"
        )
    kept = real_entries[:entries]
    words = load_words()
    synthetic = [
        synthetic_entry(i + 1, combo, words, seed)
        for i, combo in enumerate(combinations(seed)[: max(0, missing)])
    ]
    domains = dict(real.get("domains") or {})
    for entry in synthetic:
        domains.setdefault(entry["domain"], DOMAIN_NAMES[entry["domain"]])
    return {"version": real.get("version", 1), "domains": domains, "entries": kept + synthetic}


def render(catalog: dict[str, Any]) -> str:
    body = yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False, width=1000)
    return HEADER + body


def write_catalog(
    out: Path, entries: int, seed: int = DEFAULT_SEED, real_path: Path = REAL_FAQ
) -> Path:
    """Write the catalog of ``entries`` entries to ``out``; returns ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(build_catalog(entries, seed, real_path)), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, required=True, help="entries in all (N)")
    parser.add_argument("--out", type=Path, required=True, help="the faq.yml to write")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--real", type=Path, default=REAL_FAQ, help="the shipped faq.yml")
    args = parser.parse_args(argv)
    if args.out.resolve() == REAL_FAQ.resolve():
        parser.error("refusing to overwrite the shipped catalog with a synthetic one")
    try:
        write_catalog(args.out, args.entries, args.seed, args.real)
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write(
        f"wrote {args.entries} entries (synthetic after the shipped ones) to {args.out}\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
