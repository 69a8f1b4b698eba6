//! What every console page shares: the frame around it (language, who is signed in, the menu, the form
//! token) and the small formats pages use.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use crate::console::session::Staff;
use crate::domain::money;
use crate::domain::role::Role;
use crate::domain::validation::Vocabulary;
use crate::i18n::{Lang, Text};

/// One entry of the menu.
pub struct NavItem {
    pub href: &'static str,
    pub label: Text,
    pub current: bool,
}

/// The page around the content.
pub struct Frame {
    pub lang: Lang,
    pub title: String,
    /// The signed-in staff member's name and role, and the token every form of this session carries.
    pub who: Option<(String, Text)>,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    /// The page's own address, query included, for the language switch to come back to.
    pub here: String,
    /// What the last action did, shown once at the top.
    pub notice: Option<Text>,
    pub utc_offset: FixedOffset,
}

impl Frame {
    /// A page for someone not signed in (sign-in, failures).
    pub fn bare(lang: Lang, title: String) -> Self {
        Self {
            lang,
            title,
            who: None,
            csrf: String::new(),
            nav: Vec::new(),
            here: "/console/".to_owned(),
            notice: None,
            utc_offset: FixedOffset::east_opt(8 * 3600).expect("a valid offset"),
        }
    }

    /// A page for `staff`, under the menu's entry `here`, titled in both languages.
    pub fn new(staff: &Staff, title: Text, here: &str) -> Self {
        let nav = menu(staff.caller.role)
            .into_iter()
            .map(|(href, label)| NavItem {
                href,
                label,
                current: if href == "/console/" { here == href } else { here.starts_with(href) },
            })
            .collect();
        Self {
            lang: staff.lang,
            title: title.into_string(staff.lang),
            who: Some((staff.display_name.clone(), staff.caller.role.label())),
            csrf: staff.csrf.clone(),
            nav,
            here: staff.here.clone(),
            notice: None,
            utc_offset: staff.utc_offset,
        }
    }

    #[must_use]
    pub fn with_notice(mut self, notice: Option<Text>) -> Self {
        self.notice = notice;
        self
    }

    /// The words of `zh` or `en` in the page's language.
    pub fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn text<'a>(&self, text: &'a Text) -> &'a str {
        text.get(self.lang)
    }

    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// The language switch's link: to the other language, back to this page.
    pub fn switch_href(&self) -> String {
        let to = if self.is_en() { "zh" } else { "en" };
        format!("/console/lang?to={to}&back={}", crate::console::failure::urlencode(&self.here))
    }

    pub fn html_lang(&self) -> &'static str {
        if self.is_en() { "en" } else { "zh-CN" }
    }

    /// `fen` as yuan, e.g. `12,345.67 元` / `CNY 12,345.67`.
    pub fn money(&self, fen: &i64) -> String {
        if self.is_en() { format!("CNY {}", money::yuan(*fen)) } else { format!("{} 元", money::yuan(*fen)) }
    }

    pub fn money_or_dash(&self, fen: &Option<i64>) -> String {
        fen.as_ref().map_or_else(|| "—".to_owned(), |fen| self.money(fen))
    }

    pub fn day(&self, day: &Option<NaiveDate>) -> String {
        day.map_or_else(|| "—".to_owned(), |d| d.format("%Y-%m-%d").to_string())
    }

    pub fn role(&self, role: &Role) -> String {
        role.label().get(self.lang).to_owned()
    }

    /// A moment in the park's time zone, to the minute.
    pub fn moment(&self, at: &Option<DateTime<Utc>>) -> String {
        at.map_or_else(|| "—".to_owned(), |t| t.with_timezone(&self.utc_offset).format("%Y-%m-%d %H:%M").to_string())
    }
}

/// The menu of each role: only what the role may use.
fn menu(role: Role) -> Vec<(&'static str, Text)> {
    let home = ("/console/", Text::new("工作台", "Dashboard"));
    let applications = ("/console/applications", Text::new("申报", "Applications"));
    let companies = ("/console/companies", Text::new("企业认证", "Companies"));
    let payments = ("/console/payments", Text::new("待拨付", "Payments"));
    let reports = ("/console/reports", Text::new("报表", "Reports"));
    let requests = ("/console/requests", Text::new("企业诉求", "Requests"));
    let allocation = ("/console/allocation", Text::new("按比例核减", "Allocation"));
    let users = ("/console/users", Text::new("账号", "Accounts"));
    let programs = ("/console/programs", Text::new("项目", "Programmes"));
    let calendar = ("/console/calendar", Text::new("工作日", "Calendar"));
    let audit = ("/console/audit", Text::new("审计日志", "Audit log"));
    match role {
        Role::Reviewer => vec![home, applications, companies, requests, allocation],
        Role::Expert => vec![("/console/", Text::new("我的评审", "My reviews"))],
        Role::Finance => vec![home, payments, applications, reports, requests],
        Role::Admin => {
            vec![home, applications, companies, requests, payments, reports, users, programs, calendar, audit]
        }
        Role::Applicant => Vec::new(),
    }
}
