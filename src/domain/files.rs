//! Uploaded files: which types a programme may accept, what a file really is (by its first bytes, whatever
//! the client claims), and a file name safe to show.

use serde::{Deserialize, Serialize};

use crate::domain::error::{Error as Refusal, FieldError};
use crate::i18n::Text;

text_enum!(
    /// File types by short name, as programmes list them.
    FileType {
        Pdf => "pdf",
        Jpg => "jpg",
        Png => "png",
        Xlsx => "xlsx",
        Docx => "docx",
        Zip => "zip",
    }
);

impl FileType {
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileType::Zip => "application/zip",
        }
    }

    fn signature(self) -> &'static [u8] {
        match self {
            FileType::Pdf => b"%PDF-",
            FileType::Jpg => &[0xFF, 0xD8, 0xFF],
            FileType::Png => &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A],
            // Office documents are ZIP containers.
            FileType::Xlsx | FileType::Docx | FileType::Zip => b"PK\x03\x04",
        }
    }
}

/// Bytes needed to recognise any accepted type.
pub const SNIFF_BYTES: usize = 8;

/// The accepted type the file's first bytes show it to be, if any.
pub fn recognise(accepted: &[FileType], head: &[u8]) -> Option<FileType> {
    accepted.iter().copied().find(|t| head.starts_with(t.signature()))
}

/// The client's file name reduced to something safe to display and to put in a header: no folders,
/// no control characters, no leading dots, at most 200 characters.
pub fn display_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control() && !"<>:\"|?*".contains(*c)).take(200).collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim();
    if cleaned.is_empty() { "file".to_owned() } else { cleaned.to_owned() }
}

/// An upload refused because the company's files would weigh more than its `quota_bytes` together.
#[expect(clippy::cast_precision_loss, reason = "for display only")]
pub fn quota_exceeded(quota_bytes: i64) -> Refusal {
    let mib = quota_bytes as f64 / 1024.0 / 1024.0;
    let message = Text::owned(
        format!("贵公司上传的文件合计不能超过 {quota_bytes} 字节（约 {mib:.1} MiB）；请删除不再需要的文件后再上传。"),
        format!(
            "Your company's uploaded files may weigh at most {quota_bytes} bytes (about {mib:.1} MiB) together; remove files no longer needed first."
        ),
    );
    Refusal::Invalid {
        code: "quota_exceeded",
        detail: message.clone(),
        errors: vec![FieldError::new("file", "quota_exceeded", message)],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_what_its_first_bytes_say() {
        let all = FileType::ALL;
        assert_eq!(recognise(all, b"%PDF-1.7\n..."), Some(FileType::Pdf));
        assert_eq!(recognise(all, &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), Some(FileType::Jpg));
        assert_eq!(recognise(all, b"\x89PNG\r\n\x1a\n...."), Some(FileType::Png));
        assert_eq!(recognise(&[FileType::Pdf], b"MZ\x90\x00 an executable"), None);
        assert_eq!(recognise(&[FileType::Pdf], b"<html><body>%PDF-"), None);
        assert_eq!(recognise(&[FileType::Pdf, FileType::Png], b"\x89PNG\r\n\x1a\n"), Some(FileType::Png));
        assert_eq!(recognise(&[FileType::Pdf], b""), None);
    }

    #[test]
    fn file_names_lose_their_folders_and_anything_unsafe() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\Users\\王芳\\营业执照.pdf"), "营业执照.pdf");
        assert_eq!(display_name("..\\..\\"), "file");
        assert_eq!(display_name(".hidden\r\n.pdf"), "hidden.pdf");
        assert_eq!(display_name("a\"b<c>.pdf"), "abc.pdf");
    }
}
