"""The README of a draw export: how anyone recomputes the draw from the published files.

Templates for the full and the pseudonymous export, and the section added when the
seed came from the drand beacon; ``readme_text`` assembles them for one export.
"""

from __future__ import annotations

from supervision.draw import beacon

__all__ = ["README_TEMPLATE", "readme_text"]


README_TEMPLATE = """\
# 抽查结果复核说明（{task}）

本目录公开了一次"双随机"抽取的全部输入和结果，任何人都可以独立重算并核对。

- `seed.txt`：随机种子（原样保存，UTF-8，无换行）。
- `parameters.json`：抽查任务、算法、分层和各层抽查比例；`population_files` 给出各分层的名录文件。
- `population/*.txt`：各分层的抽查对象名录，每行一个统一社会信用代码，按码位排序。
- `selection.csv`：抽中的主体（分层、代码、签号），按抽取顺序排列。
- `digests.json`：以上各文件的 SHA-256 摘要，用于确认文件未被改动。

算法：每个主体的签号为 consistent-sampler 1.0.10 的第一代签号
（SHA-256(SHA-256(种子) + 代码) 的十进制数字倒序，前加 "0."）；
每个分层抽取签号最小的 ceil(比例 × 主体数) 户。

在本目录中安装 `pip install consistent-sampler==1.0.10` 后运行下面的 Python 代码，
输出 "一致 MATCH" 即说明公开的结果可以复现。

# How to check this draw

This directory publishes every input and the result of a random draw, so anyone can
recompute it. `seed.txt` is the seed (verbatim, UTF-8, no newline); `parameters.json`
gives the task, algorithm, strata and the ratio of each stratum, and
`population_files` names each stratum's list; `population/*.txt` lists the entities
(one unified social credit code per line, sorted by code point); `selection.csv` lists
the drawn entities with their tickets, in draw order; `digests.json` holds the
SHA-256 of each file.

Each entity's ticket is its consistent-sampler 1.0.10 first-generation ticket; in
each stratum the ceil(ratio × size) entities with the smallest tickets are drawn.
Install `pip install consistent-sampler==1.0.10`, run this code in this directory,
and it prints "一致 MATCH" when the published selection is reproduced:

```python
import csv, io, json, math
from fractions import Fraction
from consistent_sampler import sampler

seed = open("seed.txt", encoding="utf-8", newline="").read()
params = json.load(open("parameters.json", encoding="utf-8"))
out = io.StringIO()
rows = csv.writer(out, lineterminator="\\n")
rows.writerow(["stratum", "id", "ticket"])
for stratum in sorted(params["ratios"]):
    text = open(params["population_files"][stratum], encoding="utf-8", newline="").read()
    ids = text.split("\\n")[:-1]
    n = math.ceil(Fraction(params["ratios"][stratum]) * len(ids))
    for ticket, id_, _ in sampler(ids, seed, take=n, digits=18):
        rows.writerow([stratum, id_, ticket])
published = open("selection.csv", encoding="utf-8", newline="").read()
print("一致 MATCH" if out.getvalue() == published else "不一致 MISMATCH")
```
"""


PSEUDONYMOUS_README_TEMPLATE = """\
# 抽查结果复核说明（{task}）

本目录公开了一次"双随机"抽取的全部输入和结果，任何人都可以独立重算并核对。
本任务的名录以**化名**公开（`parameters.json` 的 `disclosure` 为 `pseudonymous`）：
未被抽中的主体不公开代码，也不公开其信用风险分类。

- `seed.txt`：随机种子（原样保存，UTF-8，无换行）。
- `parameters.json`：抽查任务、算法、分层和各层抽查比例；`population_files` 给出各分层的名录文件。
- `population/*.txt`：各分层的化名名录，每行一个化名，按码位排序。每个主体的化名为
  SHA-256(盐值 ":" 统一社会信用代码) 的小写十六进制，盐值是锁定任务时为每个主体随机生成的秘密。
- `selection.csv`：抽中的主体，按抽取顺序排列，列为 stratum,pseudonym,ticket,uscc,salt,name
  （分层、化名、签号、代码、盐值、名称）：任何人可核对 SHA-256(salt ":" uscc) 等于化名且在名录中。
- `digests.json`：以上各文件的 SHA-256 摘要，用于确认文件未被改动。

分层抽取本身要求公开抽中主体所在的分层（如信用风险分类）；未抽中主体的分层不公开。
任何主体都可以向登记机关申请本任务中自己的盐值，自行计算化名并在名录中查到自己。

算法：每个化名的签号为 consistent-sampler 1.0.10 的第一代签号
（SHA-256(SHA-256(种子) + 化名) 的十进制数字倒序，前加 "0."）；
每个分层抽取签号最小的 ceil(比例 × 主体数) 个化名。

在本目录中安装 `pip install consistent-sampler==1.0.10` 后运行下面的 Python 代码，
输出 "一致 MATCH" 即说明公开的结果可以复现、公开的盐值都对得上。

# How to check this draw

This directory publishes every input and the result of a random draw, so anyone can
recompute it. The population is published under **pseudonyms** (`disclosure` is
`pseudonymous` in `parameters.json`): the code and the credit risk class of an entity that
was not drawn are not published. `seed.txt` is the seed (verbatim, UTF-8, no newline);
`parameters.json` gives the task, algorithm, strata and ratios, and `population_files`
names each stratum's list; `population/*.txt` lists the pseudonyms (one per line, sorted
by code point): an entity's pseudonym is the lower-case hex SHA-256 of its salt, ":" and
its unified social credit code, the salt being a random secret drawn for each entity at
commit. `selection.csv` lists the drawn entities in draw order with the columns
stratum,pseudonym,ticket,uscc,salt,name: anyone can check that SHA-256(salt ":" uscc) is
the pseudonym and is in the population. A stratified draw cannot be recomputed without the
stratum of each drawn entity, so that is published; the stratum of any other entity is not.
Any entity may ask the registration authority for its own salt in this task, compute its
pseudonym and find itself in the population.

Each pseudonym's ticket is its consistent-sampler 1.0.10 first-generation ticket; in each
stratum the ceil(ratio × size) pseudonyms with the smallest tickets are drawn. Install
`pip install consistent-sampler==1.0.10`, run this code in this directory, and it prints
"一致 MATCH" when the published selection is reproduced and every revealed salt checks:

```python
import csv, hashlib, json, math
from fractions import Fraction
from consistent_sampler import sampler

seed = open("seed.txt", encoding="utf-8", newline="").read()
params = json.load(open("parameters.json", encoding="utf-8"))
PSEUDONYM_DRAW
```
"""

PSEUDONYM_DRAW = """\
drawn, members = [], dict()
for stratum in sorted(params["ratios"]):
    text = open(params["population_files"][stratum], encoding="utf-8", newline="").read()
    ids = text.split("\\n")[:-1]
    members[stratum] = set(ids)
    n = math.ceil(Fraction(params["ratios"][stratum]) * len(ids))
    for ticket, id_, _ in sampler(ids, seed, take=n, digits=18):
        drawn.append([stratum, id_, ticket])
rows = list(csv.DictReader(open("selection.csv", encoding="utf-8", newline="")))
published = [[r["stratum"], r["pseudonym"], r["ticket"]] for r in rows]
salts_ok = all(
    hashlib.sha256((r["salt"] + ":" + r["uscc"]).encode("utf-8")).hexdigest() == r["pseudonym"]
    and r["pseudonym"] in members[r["stratum"]]
    for r in rows
)
print("一致 MATCH" if drawn == published and salts_ok else "不一致 MISMATCH")"""

_FULL_DRAW = """\
out = io.StringIO()
rows = csv.writer(out, lineterminator="\\n")
rows.writerow(["stratum", "id", "ticket"])
for stratum in sorted(params["ratios"]):
    text = open(params["population_files"][stratum], encoding="utf-8", newline="").read()
    ids = text.split("\\n")[:-1]
    n = math.ceil(Fraction(params["ratios"][stratum]) * len(ids))
    for ticket, id_, _ in sampler(ids, seed, take=n, digits=18):
        rows.writerow([stratum, id_, ticket])
published = open("selection.csv", encoding="utf-8", newline="").read()
print("一致 MATCH" if out.getvalue() == published else "不一致 MISMATCH")"""


BEACON_README = """\

## 随机种子来自 drand 公共随机信标 / The seed comes from the drand beacon

本次抽取的种子不是人工输入的：锁定任务时（`parameters.json` 的 `seed`）公布了 drand quicknet
链将来的第 {round} 轮；该轮的签名保存在 `beacon.json`。任何人都可以离线验证签名
（`pip install drand-verify==0.2.1`），随机数即种子（小写十六进制）。下面的代码验证签名、
推出种子并与 `seed.txt` 比对，然后按上文重算抽取：

The seed was not typed in: the commit (`seed` in `parameters.json`) named round {round} of
the drand quicknet chain, which did not exist yet; `beacon.json` holds that round's signature.
Anyone can verify it offline (`pip install drand-verify==0.2.1`); its randomness, lower-case
hex, is the seed. This code verifies the signature, derives the seed, compares it with
`seed.txt` and recomputes the draw as above:

```python
import csv, io, json, math
from fractions import Fraction
import drand_verify
from consistent_sampler import sampler

QUICKNET = "{chain_hash}"
PUBLIC_KEY = "{public_key}"
proof = json.load(open("beacon.json", encoding="utf-8"))
params = json.load(open("parameters.json", encoding="utf-8"))
assert proof["chain_hash"] == QUICKNET == params["seed"]["chain_hash"], "另一条链 / another chain"
assert proof["round"] == params["seed"]["round"], "不是锁定的轮次 / not the committed round"
seed = drand_verify.verify_quicknet(proof["round"], proof["signature"], PUBLIC_KEY).lower()
assert seed == open("seed.txt", encoding="utf-8", newline="").read(), "种子不符 / seed differs"
out = io.StringIO()
rows = csv.writer(out, lineterminator="\\n")
rows.writerow(["stratum", "id", "ticket"])
for stratum in sorted(params["ratios"]):
    text = open(params["population_files"][stratum], encoding="utf-8", newline="").read()
    ids = text.split("\\n")[:-1]
    n = math.ceil(Fraction(params["ratios"][stratum]) * len(ids))
    for ticket, id_, _ in sampler(ids, seed, take=n, digits=18):
        rows.writerow([stratum, id_, ticket])
published = open("selection.csv", encoding="utf-8", newline="").read()
print("一致 MATCH" if out.getvalue() == published else "不一致 MISMATCH")
```
"""


def readme_text(task: str, *, pseudonymous: bool, proof: beacon.BeaconRound | None) -> str:
    """The README.md of an export of ``task`` (newlines already removed)."""
    if not pseudonymous:
        readme = README_TEMPLATE.format(task=task)
    else:
        readme = PSEUDONYMOUS_README_TEMPLATE.format(task=task)
        readme = readme.replace("PSEUDONYM_DRAW", PSEUDONYM_DRAW)
    if proof is not None:
        section = BEACON_README.format(
            round=proof.round, chain_hash=beacon.CHAIN_HASH, public_key=beacon.PUBLIC_KEY
        )
        if pseudonymous:
            section = section.replace(_FULL_DRAW, PSEUDONYM_DRAW).replace(
                "import csv, io, json, math", "import csv, hashlib, io, json, math"
            )
        readme += section
    return readme
