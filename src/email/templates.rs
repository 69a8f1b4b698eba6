//! The messages the portal sends, Chinese first and then English, with the links the frontend needs.

use super::Email;

const SIGNATURE: &str = "高新区政策兑现平台 / High-tech Zone Policy Portal";

fn bilingual(to: &str, subject_zh: &str, subject_en: &str, zh: &str, en: &str) -> Email {
    Email {
        to: to.to_owned(),
        subject: format!("{subject_zh} / {subject_en}"),
        body: format!("{zh}\n\n{SIGNATURE}\n\n----------------------------------------\n\n{en}\n\n{SIGNATURE}\n"),
    }
}

pub fn verify_email(to: &str, name: &str, link: &str) -> Email {
    bilingual(
        to,
        "请验证您的邮箱",
        "Verify your email address",
        &format!(
            "{name}，您好：\n\n感谢注册。请在 24 小时内打开以下链接完成邮箱验证：\n{link}\n\n如非本人操作，请忽略本邮件。"
        ),
        &format!(
            "Hello {name},\n\nThank you for registering. Open this link within 24 hours to verify your email address:\n{link}\n\nIf this was not you, ignore this message."
        ),
    )
}

pub fn password_reset(to: &str, name: &str, link: &str) -> Email {
    bilingual(
        to,
        "重置密码",
        "Reset your password",
        &format!(
            "{name}，您好：\n\n请在 30 分钟内打开以下链接设置新密码：\n{link}\n\n如非本人操作，请忽略本邮件，您的密码不会改变。"
        ),
        &format!(
            "Hello {name},\n\nOpen this link within 30 minutes to choose a new password:\n{link}\n\nIf this was not you, ignore this message; your password stays as it is."
        ),
    )
}

pub fn invitation(to: &str, name: &str, role_zh: &str, role_en: &str, link: &str) -> Email {
    bilingual(
        to,
        "您已受邀使用政策兑现平台",
        "You are invited to the policy portal",
        &format!("{name}，您好：\n\n管理员已为您开通{role_zh}账号。请在 72 小时内打开以下链接设置密码：\n{link}"),
        &format!(
            "Hello {name},\n\nAn administrator has created a {role_en} account for you. Open this link within 72 hours to set your password:\n{link}"
        ),
    )
}

pub fn company_verification(to: &str, company: &str, verified: bool, comment: &str) -> Email {
    let (zh, en) = if verified {
        (
            format!("贵公司“{company}”的企业信息已通过审核，现在可以在线申报政策项目。"),
            format!("The registration of “{company}” has been verified; you can now apply for programmes online."),
        )
    } else {
        (
            format!(
                "贵公司“{company}”的企业信息未通过审核。\n审核意见：{comment}\n请按意见修改企业信息后联系园区工作人员。"
            ),
            format!(
                "The registration of “{company}” was not verified.\nReviewer's comment: {comment}\nPlease correct the company profile and contact the park staff."
            ),
        )
    };
    bilingual(to, "企业信息审核结果", "Company verification result", &zh, &en)
}

pub fn company_facts_changed(to: &str, company: &str, credit_code: &str, fields: &[&str]) -> Email {
    let fields = fields.join(", ");
    bilingual(
        to,
        &format!("企业已核实信息变更，待重新审核：{company}"),
        &format!("Verified company details changed, to verify again: {company}"),
        &format!(
            "“{company}”（统一社会信用代码 {credit_code}）修改了已核实的企业信息（{fields}），企业状态已改回待审核。请核对变更后重新审核。"
        ),
        &format!(
            "“{company}” (credit code {credit_code}) changed verified details ({fields}); the company is pending verification again. Check the change and verify it anew."
        ),
    )
}

pub fn bank_account_changed(to: &str, company: &str, bank_name: &str, masked_account_no: &str) -> Email {
    bilingual(
        to,
        "收款银行账户已变更",
        "The bank account for awards has changed",
        &format!(
            "“{company}”的收款银行账户已改为 {bank_name} {masked_account_no}。财务人员核实新账户前，奖补资金暂不拨付。\n如非贵公司操作，请立即修改密码并联系园区工作人员。"
        ),
        &format!(
            "The account “{company}” receives awards in is now {bank_name} {masked_account_no}. No award is paid until the park's finance staff confirm the new account.\nIf your company did not make this change, change your password and contact the park staff at once."
        ),
    )
}

/// What happened to an account's two-step verification.
#[derive(Debug, Clone, Copy)]
pub enum SecondFactor {
    TurnedOn,
    TurnedOff,
    ResetByAdministrator,
}

pub fn second_factor_changed(to: &str, change: SecondFactor) -> Email {
    let (zh, en) = match change {
        SecondFactor::TurnedOn => ("您的账户已启用两步验证。", "Two-step verification is now on for your account."),
        SecondFactor::TurnedOff => ("您的账户已停用两步验证。", "Two-step verification is now off for your account."),
        SecondFactor::ResetByAdministrator => (
            "管理员已清除您账户的两步验证，并结束了您的所有登录。请用密码登录后重新设置。",
            "An administrator has cleared two-step verification on your account and ended all your sessions. \
             Sign in with your password and set it up again.",
        ),
    };
    bilingual(
        to,
        "两步验证已变更",
        "Two-step verification has changed",
        &format!("{zh}\n如非本人知情，请立即修改密码并联系园区系统管理员。"),
        &format!(
            "{en}\nIf you did not expect this, change your password and contact the park's administrator at once."
        ),
    )
}

pub fn application_received(to: &str, company: &str, program: &str, reference_no: &str) -> Email {
    bilingual(
        to,
        &format!("申报已受理：{reference_no}"),
        &format!("Application received: {reference_no}"),
        &format!("{company}：\n\n贵公司申报的“{program}”已提交，受理编号 {reference_no}。审核进展可随时在平台查看。"),
        &format!(
            "{company}:\n\nYour application to “{program}” has been submitted under reference {reference_no}. You can follow its review on the portal."
        ),
    )
}

pub fn application_to_review(to: &str, company: &str, program: &str, reference_no: &str) -> Email {
    bilingual(
        to,
        &format!("新的申报待形式审查：{reference_no}"),
        &format!("New application to check: {reference_no}"),
        &format!("{company} 提交了“{program}”的申报（{reference_no}），请进行形式审查。"),
        &format!("{company} submitted an application to “{program}” ({reference_no}); it awaits the formal check."),
    )
}

pub fn returned(to: &str, reference_no: &str, reason: &str, due_on: chrono::NaiveDate) -> Email {
    bilingual(
        to,
        &format!("申报已退回补正：{reference_no}"),
        &format!("Application returned for correction: {reference_no}"),
        &format!(
            "贵公司的申报 {reference_no} 已退回补正。\n退回原因：{reason}\n请于 {due_on}（含当日）前修改后重新提交。"
        ),
        &format!(
            "Your application {reference_no} was returned for correction.\nReason: {reason}\nPlease correct it and submit again by {due_on} (inclusive)."
        ),
    )
}

pub fn expert_assigned(to: &str, program: &str, reference_no: &str) -> Email {
    bilingual(
        to,
        &format!("评审邀请：{reference_no}"),
        &format!("Review invitation: {reference_no}"),
        &format!(
            "您被指派评审“{program}”的申报 {reference_no}。请先登录平台声明是否存在利益冲突，再查看申报材料并评分。"
        ),
        &format!(
            "You are assigned to review application {reference_no} to “{program}”. Sign in, declare any conflict of interest, then read and score it."
        ),
    )
}

pub fn expert_recused(to: &str, reference_no: &str) -> Email {
    bilingual(
        to,
        &format!("专家回避：{reference_no}"),
        &format!("An expert is recused: {reference_no}"),
        &format!("一位评审专家就申报 {reference_no} 声明存在利益冲突并已回避，如需请另行指派专家。"),
        &format!(
            "An expert declared a conflict of interest on {reference_no} and is recused; assign another expert if needed."
        ),
    )
}

pub fn proposed(to: &str, reference_no: &str, amount: &str, notice_ends_on: chrono::NaiveDate) -> Email {
    bilingual(
        to,
        &format!("拟支持公示：{reference_no}"),
        &format!("Proposed for support, in public notice: {reference_no}"),
        &format!("贵公司的申报 {reference_no} 拟获支持 {amount} 元，现进入公示期，公示至 {notice_ends_on}。"),
        &format!(
            "Your application {reference_no} is proposed for support of {amount} yuan and is in public notice until {notice_ends_on}."
        ),
    )
}

pub fn approved(to: &str, reference_no: &str, amount: &str, payment_due_on: chrono::NaiveDate) -> Email {
    bilingual(
        to,
        &format!("申报已批准：{reference_no}"),
        &format!("Application approved: {reference_no}"),
        &format!(
            "贵公司的申报 {reference_no} 已批准，支持金额 {amount} 元，资金将于 {payment_due_on} 前拨付。请确认平台中的收款账户信息无误。"
        ),
        &format!(
            "Your application {reference_no} is approved for {amount} yuan, to be paid by {payment_due_on}. Please check your bank account details on the portal."
        ),
    )
}

pub fn rejected(to: &str, reference_no: &str, reason: &str) -> Email {
    bilingual(
        to,
        &format!("申报未获支持：{reference_no}"),
        &format!("Application not supported: {reference_no}"),
        &format!("很遗憾，贵公司的申报 {reference_no} 未获支持。\n原因：{reason}"),
        &format!("We regret that your application {reference_no} will not be supported.\nReason: {reason}"),
    )
}

pub fn objection_lodged(to: &str, reference_no: &str, name: &str, content: &str) -> Email {
    bilingual(
        to,
        &format!("公示异议：{reference_no}"),
        &format!("Objection during public notice: {reference_no}"),
        &format!("{name} 对公示中的申报 {reference_no} 提出异议：\n{content}\n请在平台中核实处理。"),
        &format!(
            "{name} objected to {reference_no}, which is in public notice:\n{content}\nPlease look into it on the portal."
        ),
    )
}

pub fn payment_made(to: &str, reference_no: &str, amount: &str, paid_on: chrono::NaiveDate) -> Email {
    bilingual(
        to,
        &format!("资金已拨付：{reference_no}"),
        &format!("Payment made: {reference_no}"),
        &format!("申报 {reference_no} 的支持资金 {amount} 元已于 {paid_on} 拨付至贵公司登记的银行账户，请注意查收。"),
        &format!(
            "{amount} yuan for application {reference_no} was paid on {paid_on} into your registered bank account."
        ),
    )
}

pub fn request_replied(to: &str, reference_no: &str, body: &str) -> Email {
    bilingual(
        to,
        &format!("诉求 {reference_no} 有新的答复"),
        &format!("A reply to your request {reference_no}"),
        &format!("您好：\n\n您提交的诉求 {reference_no} 有新的答复：\n\n{body}\n\n可登录平台查看完整记录。"),
        &format!(
            "Hello,\n\nYour request {reference_no} has a new reply:\n\n{body}\n\nSign in to the portal to see the whole thread."
        ),
    )
}

pub fn request_needs_more(to: &str, reference_no: &str, body: &str) -> Email {
    bilingual(
        to,
        &format!("诉求 {reference_no} 需要补充信息"),
        &format!("More information needed for request {reference_no}"),
        &format!(
            "您好：\n\n办理您的诉求 {reference_no} 需要您补充以下信息：\n\n{body}\n\n请登录平台回复；在您回复之前，办理时限暂停计算。"
        ),
        &format!(
            "Hello,\n\nTo handle your request {reference_no} we need more information:\n\n{body}\n\nPlease reply in the portal; the deadline is paused until you do."
        ),
    )
}

pub fn request_resolved(to: &str, reference_no: &str, resolution: &str) -> Email {
    bilingual(
        to,
        &format!("诉求 {reference_no} 已办结，请评价"),
        &format!("Request {reference_no} is resolved: please rate it"),
        &format!(
            "您好：\n\n您的诉求 {reference_no} 已办结，办理结果：\n\n{resolution}\n\n请登录平台对办理情况作出评价（1 非常不满意 … 5 非常满意）；评价为 1 或 2 的诉求将重新办理。"
        ),
        &format!(
            "Hello,\n\nYour request {reference_no} is resolved:\n\n{resolution}\n\nPlease rate how it was handled in the portal (1 very dissatisfied … 5 very satisfied); a rating of 1 or 2 reopens it."
        ),
    )
}

pub fn request_assigned(to: &str, reference_no: &str, subject: &str, due_on: chrono::NaiveDate) -> Email {
    bilingual(
        to,
        &format!("请承办企业诉求 {reference_no}"),
        &format!("Company request {reference_no} is yours to handle"),
        &format!("您好：\n\n企业诉求 {reference_no}“{subject}”已交由您承办，请于 {due_on} 前办结。"),
        &format!(
            "Hello,\n\nThe company request {reference_no} “{subject}” is assigned to you; resolve it by {due_on}."
        ),
    )
}

pub fn request_reopened(to: &str, reference_no: &str, rating: i32, comment: &str) -> Email {
    bilingual(
        to,
        &format!("诉求 {reference_no} 因不满意评价重新办理"),
        &format!("Request {reference_no} reopened after a bad rating"),
        &format!(
            "您好：\n\n企业对诉求 {reference_no} 的办理评价为 {rating} 分，诉求已重新打开，请核实并重新办理。\n企业意见：{comment}"
        ),
        &format!(
            "Hello,\n\nThe company rated request {reference_no} {rating} out of 5; it is reopened: verify and handle it again.\nThe company's comment: {comment}"
        ),
    )
}

pub fn request_overdue(to: &str, reference_no: &str, company: &str, subject: &str, due_on: chrono::NaiveDate) -> Email {
    bilingual(
        to,
        &format!("催办：企业诉求 {reference_no} 已超期"),
        &format!("Overdue: company request {reference_no}"),
        &format!("您好：\n\n“{company}”的诉求 {reference_no}“{subject}”已超过办理时限（{due_on}），请尽快办理。"),
        &format!(
            "Hello,\n\nThe request {reference_no} “{subject}” from “{company}” is past its deadline ({due_on}); please handle it now."
        ),
    )
}

/// What an announcement of a programme says (政策精准推送): the window as the park's local times, why the
/// company qualifies (each rule's explanation, in both languages), where the guide is and how to stop these.
#[derive(Debug, Clone)]
pub struct Announcement {
    pub program_title: String,
    pub program_code: String,
    pub opens: String,
    pub closes: String,
    /// The park's offset, e.g. `UTC+08:00`.
    pub zone: String,
    pub guide_link: String,
    pub settings_link: String,
}

pub fn program_outreach(to: &str, company: &str, a: &Announcement, reasons: &[crate::i18n::Text]) -> Email {
    let (title, code) = (&a.program_title, &a.program_code);
    let (mut why_zh, mut why_en) = (String::new(), String::new());
    for reason in reasons {
        for (list, line) in [(&mut why_zh, &reason.zh), (&mut why_en, &reason.en)] {
            list.push_str("- ");
            list.push_str(line);
            list.push('\n');
        }
    }
    bilingual(
        to,
        &format!("政策申报提醒：{title}"),
        &format!("A programme you qualify for: {title}"),
        &format!(
            "{company}：\n\n园区政策项目“{title}”（{code}）正在受理申报，贵公司符合申报条件。\n申报时间：{} 至 {}（{}）\n\n贵公司符合的条件：\n{why_zh}\n申报指南及在线申报：{}\n\n如不希望再收到新政策推送，可在平台“企业信息”中关闭“新政策推送”（notify_new_programs）：{}",
            a.opens, a.closes, a.zone, a.guide_link, a.settings_link
        ),
        &format!(
            "{company}:\n\nThe park's programme “{title}” ({code}) is taking applications, and your company qualifies.\nApplications: from {} to {} ({})\n\nWhy your company qualifies:\n{why_en}\nThe guide, and where to apply online: {}\n\nTo stop these announcements of new programmes, turn off “New programme announcements” (notify_new_programs) in your company profile: {}",
            a.opens, a.closes, a.zone, a.guide_link, a.settings_link
        ),
    )
}
