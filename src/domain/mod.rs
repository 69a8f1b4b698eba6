//! The portal's rules in plain Rust: no actix, no diesel.

/// An enum stored and sent as `snake_case` text, with `ALL`, `as_str` and `parse`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}

pub mod account;
pub mod actions;
pub mod allocation;
pub mod audit;
pub mod calendar;
pub mod company;
pub mod credit_code;
pub mod eligibility;
pub mod error;
pub mod experts;
pub mod files;
pub mod funding;
pub mod limits;
pub mod money;
pub mod outreach;
pub mod paging;
pub mod program;
pub mod report;
pub mod requests;
pub mod role;
pub mod submission;
pub mod time;
pub mod timeline;
pub mod validation;
pub mod workflow;
