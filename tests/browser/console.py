"""The staff console in a real browser: Debian's Chromium driven by Playwright, against the real binary.

Usage: tests/browser/console.py PORTAL_BINARY
APP_DATABASE__URL picks the database (an empty one); by default a temporary SQLite file. Screenshots of the
main screens go to target/console-screens/. Exits non-zero when a check fails.

The people and the application are made through the JSON API, as their own clients would: an administrator
from the command line invites the staff (each sets a password from the invitation email), a company registers,
verifies its email, applies and submits. Reviewers, experts and finance then work only in the browser.
"""
import email
import email.policy
import glob
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from playwright.sync_api import expect, sync_playwright

BIN = os.path.abspath(sys.argv[1])
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCREENS = os.path.join(ROOT, "target", "console-screens")
PORT = 18484
BASE = "http://127.0.0.1:%d" % PORT
WORK = tempfile.mkdtemp()
MAIL = os.path.join(WORK, "mail")
ADMIN_PASSWORD = "a long admin passphrase"
STAFF_PASSWORD = "staff passphrase violet 42"
COMPANY_PASSWORD = "company passphrase amber 7"
ENV = dict(os.environ, APP_SERVER__PORT=str(PORT), APP_LOG__FILTER="warn", APP_MAIL__TRANSPORT="file",
           APP_MAIL__FILE_DIR=MAIL, APP_MAIL__POLL_INTERVAL_MS="50", APP_STORAGE__UPLOAD_DIR=os.path.join(WORK, "up"),
           APP_AUTH__ARGON2_MEMORY_KIB="64", APP_AUTH__ARGON2_ITERATIONS="1", APP_OUTREACH__POLL_INTERVAL_SECS="3600")
ENV.setdefault("APP_DATABASE__URL", "sqlite://" + os.path.join(WORK, "portal.db"))
AXE = open(os.path.join(HERE, "axe.min.js"), encoding="utf-8").read()
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
AMOUNT_FEN = 123_456_78


def call(method, path, body=None, token=None):
    """A JSON API call: (status, parsed body or None)."""
    request = urllib.request.Request(BASE + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, json.loads(raw) if raw else None


def ok(method, path, body=None, token=None, status=200):
    got, answer = call(method, path, body, token)
    assert got == status, "%s %s answered %s, not %s: %s" % (method, path, got, status, answer)
    return answer


def login(email_address, password):
    return ok("POST", "/api/v1/auth/login", {"email": email_address, "password": password})["access_token"]


def mail_token(to):
    """The token in the link of the newest email to `to`."""
    for _ in range(100):
        for path in sorted(glob.glob(os.path.join(MAIL, "*.eml")), key=os.path.getmtime, reverse=True):
            with open(path, "rb") as f:
                message = email.message_from_binary_file(f, policy=email.policy.default)
            if message["To"] == to:
                return re.search(r"token=([A-Za-z0-9_-]+)", message.get_body().get_content()).group(1)
        time.sleep(0.1)
    raise AssertionError("no email reached " + to)


def credit_code():
    core = "91440400" + "".join(random.choice(CREDIT_CODE_ALPHABET) for _ in range(9))
    total = sum(CREDIT_CODE_ALPHABET.index(c) * w for c, w in zip(core, CREDIT_CODE_WEIGHTS))
    return core + CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def invite(admin, role, address, name):
    ok("POST", "/api/v1/users", {"email": address, "display_name": name, "role": role}, admin, 201)
    ok("POST", "/api/v1/auth/password-reset/confirm", {"token": mail_token(address), "new_password": STAFF_PASSWORD},
       status=204)


def ready():
    try:
        return urllib.request.urlopen(BASE + "/health/ready", timeout=2).status == 200
    except OSError:
        return False


class Console:
    """One browser context per person; every page's console errors are collected."""

    def __init__(self, browser):
        self.browser = browser
        self.errors = []

    def person(self):
        context = self.browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        context.on("page", self.watch)
        return context

    def watch(self, page):
        page.on("console", lambda m: m.type == "error" and self.errors.append("%s: %s" % (page.url, m.text)))
        page.on("pageerror", lambda e: self.errors.append("%s: %s" % (page.url, e)))

    def sign_in(self, address, password=STAFF_PASSWORD):
        page = self.person().new_page()
        page.goto(BASE + "/console/")
        page.get_by_label("邮箱").fill(address)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        page.wait_for_url(BASE + "/console/")
        return page


def accessible(page, name, screenshot=True):
    """axe-core finds no serious or critical violation on the page; and its screenshot is kept."""
    page.evaluate(AXE)
    violations = page.evaluate("""async () => (await axe.run(document, {resultTypes: ['violations']})).violations
        .filter(v => v.impact === 'serious' || v.impact === 'critical')
        .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))""")
    assert not violations, "%s: accessibility violations: %s" % (name, violations)
    if screenshot:
        page.screenshot(path=os.path.join(SCREENS, name + ".png"), full_page=True)


def the_whole_review_and_payment_in_the_browser(console, people, program_id):
    admin, company = people["admin"], people["company"]
    reviewer = console.sign_in("reviewer@console.example")
    accessible(reviewer, "dashboard")

    # The company's registration is verified in the console.
    reviewer.get_by_role("link", name="企业认证").click()
    reviewer.get_by_label("只看待认证").check()
    reviewer.get_by_role("button", name="查找").click()
    card = reviewer.locator("section.card", has_text="珠海芯片设计有限公司")
    card.get_by_label("通过", exact=True).check()
    card.get_by_role("button", name="提交").click()
    expect(reviewer.get_by_role("status")).to_contain_text("认证结果已保存")

    draft = ok("POST", "/api/v1/applications", {"program_id": program_id, "requested_amount_fen": 200_000_000,
               "form_data": {"project_name": "车规级芯片研发", "rd_budget_fen": 50_000_000}}, company, 201)
    app_id = draft["id"]
    submitted = ok("POST", "/api/v1/applications/%d/actions" % app_id, {"action": "submit", "version": draft["version"]},
                   company)

    # The reviewer finds it in the list and returns it.
    reviewer.goto(BASE + "/console/applications?status=submitted")
    accessible(reviewer, "applications")
    reviewer.get_by_role("link", name=submitted["reference_no"]).click()
    reviewer.get_by_label("退回理由").fill("请补充研发预算明细。")
    reviewer.get_by_role("button", name="退回", exact=True).click()
    expect(reviewer.locator("#status")).to_contain_text("已退回")

    returned = ok("GET", "/api/v1/applications/%d" % app_id, token=company)
    ok("POST", "/api/v1/applications/%d/actions" % app_id, {"action": "submit", "version": returned["version"]}, company)

    # Accepted with two named experts.
    reviewer.reload()
    reviewer.get_by_label("专家甲").check()
    reviewer.get_by_label("专家乙").check()
    reviewer.locator("form", has_text="受理并送专家评审").get_by_role("button", name="确定").click()
    expect(reviewer.locator("#status")).to_contain_text("专家评审中")
    accessible(reviewer, "application")

    for name, address, score in [("甲", "expert.a@console.example", 86), ("乙", "expert.b@console.example", 90)]:
        expert = console.sign_in(address)
        expect(expert.get_by_role("cell", name="请先作利益冲突声明")).to_be_visible()
        expert.get_by_role("link", name=submitted["reference_no"]).click()
        # Nothing of the application before the declaration.
        expect(expert.locator("#withheld")).to_be_visible()
        assert expert.locator("#form-data").count() == 0, "an expert saw the form before declaring"
        assert "车规级芯片研发" not in expert.content(), "an expert saw the project before declaring"
        if name == "甲":
            accessible(expert, "expert-declaration")
        expert.get_by_label("本人与该企业无利益冲突").check()
        expert.get_by_role("button", name="提交声明").click()
        expect(expert.locator("#form-data")).to_contain_text("车规级芯片研发")
        expert.get_by_label("分数（0–100）").fill(str(score))
        expert.get_by_label("评审意见").fill("技术路线清晰，预算合理。")
        expert.get_by_role("button", name="提交评分").click()
        expect(expert.get_by_role("status")).to_contain_text("已完成")
        expert.context.close()

    reviewer.reload()
    expect(reviewer.get_by_role("table").filter(has_text="专家甲")).to_contain_text("86")
    reviewer.get_by_label("拟支持金额（元）").fill("123,456.78")
    reviewer.get_by_role("button", name="拟支持", exact=True).click()
    expect(reviewer.locator("#status")).to_contain_text("公示中")
    reviewer.locator("form", has_text="批准").get_by_role("button", name="批准").click()
    expect(reviewer.locator("#status")).to_contain_text("已批准")

    # Finance confirms the company's new bank account, then pays, clicking twice: one payment.
    finance = console.sign_in("finance@console.example")
    finance.get_by_role("link", name="待拨付").first.click()
    accessible(finance, "payments")
    finance.get_by_role("link", name=submitted["reference_no"]).click()
    expect(finance.locator("#account-status")).to_contain_text("未核实")
    finance.get_by_role("button", name="已与企业核实，确认该账户").click()
    expect(finance.locator("#account-status")).to_contain_text("已核实")
    finance.get_by_label("凭证号").fill("PZ-2026-0001")
    finance.get_by_role("button", name="登记拨付").dblclick()
    expect(finance.get_by_role("status")).to_contain_text("拨付已登记")
    expect(finance.locator("#paid")).to_contain_text("123,456.78")
    finance_token = login("finance@console.example", STAFF_PASSWORD)
    payments = ok("GET", "/api/v1/applications/%d/disbursements" % app_id, token=finance_token)
    assert len(payments) == 1 and payments[0]["amount_fen"] == AMOUNT_FEN, "a double click paid %s" % payments
    finance.get_by_role("link", name="报表").click()
    expect(finance.locator("#total-paid")).to_contain_text("123,456.78")
    accessible(finance, "reports")
    return app_id, reviewer, finance


def a_companys_request_is_answered_and_resolved_in_the_console(console, company):
    reviewer = console.sign_in("reviewer@console.example")
    filed = ok("POST", "/api/v1/requests", {"category": "policy_consultation", "subject": "研发费用如何归集",
                                            "content": "请问研发人员工资能否计入研发预算？"}, company, 201)
    reviewer.get_by_role("link", name="企业诉求").click()
    expect(reviewer.get_by_role("link", name=filed["reference_no"])).to_be_visible()
    accessible(reviewer, "requests")
    reviewer.get_by_role("link", name=filed["reference_no"]).click()
    expect(reviewer.locator("#request-status")).to_contain_text("待分派")
    reviewer.get_by_label("回复").fill("可以，按指南第三条归集。")
    reviewer.get_by_role("button", name="发送").click()
    expect(reviewer.get_by_role("status")).to_contain_text("回复已保存")
    reviewer.get_by_label("承办人").select_option(label="审核员李（审核人员）")
    reviewer.get_by_role("button", name="分派").click()
    expect(reviewer.locator("#request-owner")).to_contain_text("审核员李")
    accessible(reviewer, "request-thread")
    reviewer.get_by_label("办结答复").fill("已答复，可按指南归集。")
    reviewer.get_by_role("button", name="办结").click()
    expect(reviewer.locator("#request-status")).to_contain_text("已办结")
    seen = ok("GET", "/api/v1/requests/%d" % filed["id"], token=company)
    assert seen["status"] == "resolved", "the request is %s" % seen["status"]
    assert [m["body"] for m in seen["messages"]] == ["可以，按指南第三条归集。"], seen["messages"]
    reviewer.context.close()


def a_reviewer_previews_the_allocation_and_confirms_it(console, people, program_body):
    admin, company = people["admin"], people["company"]
    body = dict(program_body, code="IC-2026-B", budget_fen=100_000_000, max_award_fen=100_000_000,
                min_expert_reviews=0, public_notice_days=5)
    program = ok("POST", "/api/v1/programs", body, admin, 201)
    ok("POST", "/api/v1/programs/%d/publish" % program["id"], {}, admin)
    draft = ok("POST", "/api/v1/applications", {"program_id": program["id"], "requested_amount_fen": 100_000_000,
               "form_data": {"project_name": "封装测试线", "rd_budget_fen": 20_000_000}}, company, 201)
    submitted = ok("POST", "/api/v1/applications/%d/actions" % draft["id"],
                   {"action": "submit", "version": draft["version"]}, company)
    reviewer_token = login("reviewer@console.example", STAFF_PASSWORD)
    ok("POST", "/api/v1/applications/%d/actions" % draft["id"],
       {"action": "accept", "version": submitted["version"], "draw": 1}, reviewer_token)
    reviewer = console.sign_in("reviewer@console.example")
    reviewer.get_by_role("link", name="按比例核减").click()
    reviewer.get_by_label("项目", exact=True).select_option(str(program["id"]))
    reviewer.get_by_role("button", name="选择", exact=True).click()
    reviewer.get_by_label(submitted["reference_no"]).check()
    reviewer.get_by_role("button", name="试算").click()
    expect(reviewer.locator("#approved-total")).to_contain_text("1,000,000.00")
    accessible(reviewer, "allocation")
    reviewer.get_by_role("button", name="确认拟支持").click()
    expect(reviewer.get_by_role("status")).to_contain_text("已按试算金额拟支持")
    seen = ok("GET", "/api/v1/applications/%d" % draft["id"], token=reviewer_token)
    assert (seen["status"], seen["approved_amount_fen"]) == ("public_notice", 100_000_000), seen
    reviewer.context.close()


def an_admin_writes_a_programme_with_its_structured_parts(console, admin_token):
    page = console.sign_in("admin@console.example", ADMIN_PASSWORD)
    page.get_by_role("link", name="项目", exact=True).click()
    page.get_by_role("link", name="新建项目").click()
    page.get_by_label("项目编号").fill("BIO-2026")
    page.get_by_label("项目名称", exact=True).fill("2026年度生物医药研发补助")
    page.get_by_label("类别").select_option("biomedicine")
    page.get_by_label("项目简介").fill("支持园区生物医药企业开展临床前研究。")
    page.get_by_label("总预算（元）").fill("2,000,000")
    page.get_by_label("单个申报最高支持（元）").fill("3,000,000")
    page.get_by_label("支持对象").fill("园区生物医药企业")
    page.get_by_role("button", name="添加一条条件").click()
    page.get_by_label("条件 2", exact=True).select_option("min_years_established")
    page.get_by_label("条件 2 数值").fill("1")
    page.get_by_role("button", name="添加一项材料").click()
    page.get_by_label("材料 1 键名").fill("clinical_plan")
    page.get_by_label("材料 1 名称").fill("临床前研究方案")
    page.get_by_role("button", name="添加一个字段").click()
    page.get_by_label("字段 1 键名").fill("project_name")
    page.get_by_label("字段 1 名称").fill("项目名称")
    page.get_by_role("button", name="添加一个字段").click()
    page.get_by_label("字段 2 键名").fill("rd_budget")
    page.get_by_label("字段 2 名称").fill("研发预算")
    page.get_by_label("字段 2 类型").select_option("money_fen")
    page.get_by_role("button", name="删除 字段 1").click()
    expect(page.get_by_label("字段 1 键名")).to_have_value("rd_budget")
    page.get_by_role("button", name="保存").first.click()
    expect(page.locator("#max_award_yuan-error")).to_contain_text("不超过总预算")
    drafts = ok("GET", "/api/v1/programs?status=draft", token=admin_token)
    assert drafts["total"] == 0, "a refused form saved a programme: %s" % drafts
    # No screenshot here: the page goes on to be used, and a screenshot's injected style trips the CSP.
    accessible(page, "program-refused", screenshot=False)
    page.get_by_label("单个申报最高支持（元）").fill("300,000")
    page.get_by_role("button", name="保存").first.click()
    expect(page.get_by_role("status")).to_contain_text("草稿已创建")
    accessible(page, "program-edit")
    program_id = int(re.search(r"/console/programs/(\d+)", page.url).group(1))
    stored = ok("GET", "/api/v1/programs/%d" % program_id, token=admin_token)
    assert (stored["status"], stored["budget_fen"], stored["max_award_fen"]) == ("draft", 200_000_000, 30_000_000), stored
    assert [f["key"] for f in stored["form_fields"]] == ["rd_budget"], stored["form_fields"]
    assert stored["eligibility_rules"][1] == {"type": "min_years_established", "years": 1}, stored["eligibility_rules"]
    assert stored["required_materials"][0]["key"] == "clinical_plan", stored["required_materials"]
    page.context.close()


def a_company_account_is_told_the_console_is_for_staff(console):
    page = console.person().new_page()
    page.goto(BASE + "/console/login")
    page.get_by_label("邮箱").fill("owner@chip.example")
    page.get_by_label("密码").fill(COMPANY_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("控制台仅供园区工作人员使用")
    page.goto(BASE + "/console/")
    expect(page).to_have_url(BASE + "/console/login?next=%2Fconsole%2F")
    page.context.close()


def a_form_without_its_token_or_from_another_site_changes_nothing(reviewer, app_id):
    reviewer.reload()
    status_before = reviewer.locator("#status").inner_text()
    for headers, form in [({"Origin": BASE}, {"action": "reject", "version": "99", "comment": "x"}),
                          ({"Origin": "http://evil.example"},
                           {"action": "reject", "version": "99", "comment": "x", "csrf": "forged"})]:
        answer = reviewer.request.post(BASE + "/console/applications/%d/actions" % app_id, form=form, headers=headers)
        assert answer.status == 403, "a forged form answered %d" % answer.status
        assert "请求已被拒绝" in answer.text()
    # With the page's own token but from another site, still refused.
    token = reviewer.locator("input[name=csrf]").first.get_attribute("value")
    answer = reviewer.request.post(BASE + "/console/logout", form={"csrf": token},
                                   headers={"Origin": "http://evil.example"})
    assert answer.status == 403, "a cross-site logout answered %d" % answer.status
    reviewer.reload()
    assert reviewer.url.startswith(BASE + "/console/applications/"), "the session ended on a refused form"
    assert reviewer.locator("#status").inner_text() == status_before, "a refused form changed the application"


def signing_out_in_one_tab_ends_the_other(console):
    first = console.sign_in("reviewer@console.example")
    second = first.context.new_page()
    second.goto(BASE + "/console/applications")
    expect(second.get_by_role("heading", level=1)).to_have_text("申报列表")
    first.get_by_role("button", name="退出").click()
    first.wait_for_url(BASE + "/console/login")
    second.reload()
    expect(second).to_have_url(BASE + "/console/login?next=%2Fconsole%2Fapplications")
    first.context.close()


def the_keyboard_alone_signs_in_and_english_is_one_click_away(console):
    page = console.person().new_page()
    page.goto(BASE + "/console/login")
    accessible(page, "login")
    page.get_by_label("邮箱").focus()
    page.keyboard.type("reviewer@console.example")
    page.keyboard.press("Tab")
    page.keyboard.type(STAFF_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(BASE + "/console/")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    page.get_by_role("link", name="中文").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    page.context.close()


def main():
    os.makedirs(SCREENS, exist_ok=True)
    quiet = {"env": ENV, "check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([BIN, "migrate"], **quiet)
    subprocess.run([BIN, "create-admin", "--email", "admin@console.example"], input=ADMIN_PASSWORD.encode() + b"\n",
                   **quiet)
    log = open(os.path.join(WORK, "log"), "w")
    server = subprocess.Popen([BIN, "serve"], env=ENV, stdout=subprocess.DEVNULL, stderr=log)
    try:
        for _ in range(300):
            if ready():
                break
            time.sleep(0.1)
        else:
            raise SystemExit("the service did not start; log in " + WORK)
        admin = login("admin@console.example", ADMIN_PASSWORD)
        invite(admin, "reviewer", "reviewer@console.example", "审核员李")
        invite(admin, "expert", "expert.a@console.example", "专家甲")
        invite(admin, "expert", "expert.b@console.example", "专家乙")
        invite(admin, "finance", "finance@console.example", "财务陈")
        registration = ok("POST", "/api/v1/auth/register", {
            "company": {"credit_code": credit_code(), "name": "珠海芯片设计有限公司", "legal_representative": "张伟",
                        "industry": "integrated_circuit", "park_zone": "唐家湾主园区", "established_on": "2019-05-20",
                        "registered_capital_fen": 1_000_000_000, "address": "珠海市高新区科技六路 1 号",
                        "contact_phone": "0756-3612345"},
            "account": {"email": "owner@chip.example", "password": COMPANY_PASSWORD, "display_name": "王芳"}}, status=201)
        ok("POST", "/api/v1/auth/verify-email", {"token": mail_token("owner@chip.example")}, status=204)
        company = login("owner@chip.example", COMPANY_PASSWORD)
        ok("PUT", "/api/v1/companies/me/bank-account", {"bank_name": "中国银行珠海分行", "account_name": "珠海芯片设计有限公司",
                                                        "account_no": "6217850000001234567"}, company)
        now = time.time()
        program_body = {
            "code": "IC-2026", "title": "2026年度集成电路产业发展专项资金", "category": "integrated_circuit",
            "summary": "支持园区集成电路企业的研发投入。",
            "guide": {"beneficiaries": "园区集成电路企业", "conditions": "注册满一年", "award_standard": "最高 500 万元",
                      "deadline_note": "截止后不再受理", "contact_phone": "0756-3612345",
                      "consulting_address": "高新区科技产业局 302 室", "policy_basis": "《若干措施》"},
            "opens_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600)),
            "closes_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 30 * 86400)),
            "budget_fen": 5_000_000_000, "max_award_fen": 500_000_000, "public_notice_days": 0,
            "payment_due_days": 60, "min_expert_reviews": 2,
            "eligibility_rules": [{"type": "company_verified"}], "required_materials": [],
            "form_fields": [{"key": "project_name", "label": "项目名称", "type": "text", "required": True},
                            {"key": "rd_budget_fen", "label": "研发预算", "type": "money_fen", "required": True}]}
        program = ok("POST", "/api/v1/programs", program_body, admin, 201)
        ok("POST", "/api/v1/programs/%d/publish" % program["id"], {}, admin)
        people = {"admin": admin, "company": company, "company_id": registration["company"]["id"]}

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"])
            console = Console(browser)
            print("== the whole review and payment in the browser", flush=True)
            app_id, reviewer, _ = the_whole_review_and_payment_in_the_browser(console, people, program["id"])
            failures = []
            for name, check in [
                ("a company's request is answered and resolved in the console",
                 lambda: a_companys_request_is_answered_and_resolved_in_the_console(console, people["company"])),
                ("a reviewer previews the allocation and confirms it",
                 lambda: a_reviewer_previews_the_allocation_and_confirms_it(console, people, program_body)),
                ("an admin writes a programme with its structured parts",
                 lambda: an_admin_writes_a_programme_with_its_structured_parts(console, admin)),
                ("a company account is told the console is for staff",
                 lambda: a_company_account_is_told_the_console_is_for_staff(console)),
                ("a form without its token or from another site changes nothing",
                 lambda: a_form_without_its_token_or_from_another_site_changes_nothing(reviewer, app_id)),
                ("signing out in one tab ends the other", lambda: signing_out_in_one_tab_ends_the_other(console)),
                ("the keyboard alone signs in, and English is one click away",
                 lambda: the_keyboard_alone_signs_in_and_english_is_one_click_away(console)),
            ]:
                print("== " + name, flush=True)
                try:
                    check()
                except AssertionError as error:
                    failures.append("%s: %s" % (name, error))
                    print("FAILED: %s" % error, flush=True)
            browser.close()
        # Refused forms answer 403 (forged) and 422 (invalid) by design.
        unexpected = [e for e in console.errors if "status of 403" not in e and "status of 422" not in e]
        if unexpected:
            failures.append("errors in the browser console: %s" % unexpected)
        if failures:
            raise SystemExit("console checks failed:\n" + "\n".join(failures))
        print("console: every check passed; screenshots in " + SCREENS)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
