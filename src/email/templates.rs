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
