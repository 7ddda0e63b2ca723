//! Outgoing e-mail through lettre: SMTP in production, `.eml` files in a
//! directory for development and tests, or nothing at all.
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::{Config, MailTransport};
use crate::db::models::LocalUser;

#[derive(Clone)]
pub enum Mailer {
    None,
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>),
}

impl Mailer {
    pub fn from_config(cfg: &Config) -> anyhow::Result<Mailer> {
        Ok(match cfg.mail.transport {
            MailTransport::None => Mailer::None,
            MailTransport::Smtp => Mailer::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(&cfg.mail.smtp_url)
                    .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?
                    .build(),
            ),
            MailTransport::File => {
                std::fs::create_dir_all(&cfg.mail.file_dir).map_err(|e| {
                    anyhow::anyhow!("mail.file_dir {}: {e}", cfg.mail.file_dir.display())
                })?;
                Mailer::File(AsyncFileTransport::new(&cfg.mail.file_dir))
            }
        })
    }

    async fn send(&self, msg: Message) -> anyhow::Result<()> {
        match self {
            Mailer::None => Ok(()),
            Mailer::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(Into::into),
            Mailer::File(t) => t.send(msg).await.map(|_| ()).map_err(Into::into),
        }
    }

    /// The e-mail confirmation message, in the account's language (Japanese or English).
    pub async fn send_confirmation(
        &self,
        cfg: &Config,
        me: &LocalUser,
        link: &str,
    ) -> anyhow::Result<()> {
        let to: Mailbox = me.user.email.parse()?;
        let from: Mailbox = cfg.mail.from.parse()?;
        let ja = me
            .user
            .locale
            .as_deref()
            .is_some_and(|l| l.starts_with("ja"));
        let username = &me.account.username;
        let title = &cfg.instance.title;
        let (subject, body) = if ja {
            (
                format!("{title}: メールアドレスの確認"),
                format!(
                    "{username} さん\n\n{title} への登録ありがとうございます。次のリンクを開いてメールアドレスを確認してください。\n\n{link}\n\nお心当たりがない場合は、このメールを無視してください。\n"
                ),
            )
        } else {
            (
                format!("{title}: confirm your e-mail address"),
                format!(
                    "Hello {username},\n\nthank you for joining {title}. Open this link to confirm your e-mail address:\n\n{link}\n\nIf you did not sign up, ignore this message.\n"
                ),
            )
        };
        let msg = Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body)?;
        self.send(msg).await
    }
}
