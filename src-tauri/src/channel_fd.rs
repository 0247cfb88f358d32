//! The descriptor of this process's end of the channel, passed by the tray process as
//! `--channel-fd <n>`. It must be an open Unix stream socket; it is made close-on-exec again
//! at once, so WebKit's helper processes do not inherit it (the tray process must see the
//! channel close when this process ends).

use std::os::unix::net::UnixStream;

/// Why the channel could not be taken over.
#[derive(Debug, thiserror::Error)]
pub enum ChannelFdError {
    /// No `--channel-fd`: the window is started by the tray process, not by hand.
    #[error("no --channel-fd: the window is started by countersign-wallet (the tray process)")]
    Missing,
    /// The value is not a descriptor number.
    #[error("--channel-fd {0:?} is not a descriptor number")]
    NotANumber(String),
    /// The descriptor is not an open Unix stream socket.
    #[error("descriptor {0} is not an open Unix stream socket")]
    NotASocket(i32),
    /// Changing its flags failed.
    #[error("descriptor {fd}: {source}")]
    Io {
        /// The descriptor.
        fd: i32,
        /// What failed.
        source: std::io::Error,
    },
}

/// The channel named by `args` (the arguments after the program's name).
pub fn from_args<S: AsRef<str>>(
    args: impl Iterator<Item = S>,
) -> Result<tokio::net::UnixStream, ChannelFdError> {
    let fd = parse(args)?;
    let std = take(fd)?;
    std.set_nonblocking(true)
        .map_err(|source| ChannelFdError::Io { fd, source })?;
    // A Tokio stream needs the runtime's reactor: Tauri's runtime.
    let _guard = tauri::async_runtime::handle().inner().enter();
    tokio::net::UnixStream::from_std(std).map_err(|source| ChannelFdError::Io { fd, source })
}

/// The number after `--channel-fd`.
pub fn parse<S: AsRef<str>>(mut args: impl Iterator<Item = S>) -> Result<i32, ChannelFdError> {
    while let Some(a) = args.next() {
        if a.as_ref() == "--channel-fd" {
            let value = args.next().ok_or(ChannelFdError::Missing)?;
            let value = value.as_ref();
            return match value.parse::<i32>() {
                Ok(fd) if fd > 2 => Ok(fd),
                _ => Err(ChannelFdError::NotANumber(value.to_string())),
            };
        }
    }
    Err(ChannelFdError::Missing)
}

/// Takes ownership of `fd` after checking it is a Unix stream socket; makes it close-on-exec.
fn take(fd: i32) -> Result<UnixStream, ChannelFdError> {
    use std::os::fd::FromRawFd;
    // SAFETY: fstat and getsockopt only write into the local buffers passed; fcntl only
    // changes the descriptor's flags. An invalid descriptor makes them fail, not misbehave.
    unsafe {
        let mut stat: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &mut stat) != 0 || stat.st_mode & libc::S_IFMT != libc::S_IFSOCK {
            return Err(ChannelFdError::NotASocket(fd));
        }
        let mut kind: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        if libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&mut kind as *mut libc::c_int).cast(),
            &mut len,
        ) != 0
            || kind != libc::SOCK_STREAM
        {
            return Err(ChannelFdError::NotASocket(fd));
        }
        let flags = libc::fcntl(fd, libc::F_GETFD);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) < 0 {
            return Err(ChannelFdError::Io {
                fd,
                source: std::io::Error::last_os_error(),
            });
        }
        // SAFETY: the tray process handed this descriptor to this process alone; nothing
        // else here owns it.
        Ok(UnixStream::from_raw_fd(fd))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::{AsRawFd, IntoRawFd};

    #[test]
    fn the_argument_is_required_and_numeric() {
        assert!(matches!(
            parse(["--tray"].into_iter()),
            Err(ChannelFdError::Missing)
        ));
        assert!(matches!(
            parse(["--channel-fd"].into_iter()),
            Err(ChannelFdError::Missing)
        ));
        assert!(matches!(
            parse(["--channel-fd", "x"].into_iter()),
            Err(ChannelFdError::NotANumber(_))
        ));
        assert!(matches!(
            parse(["--channel-fd", "1"].into_iter()),
            Err(ChannelFdError::NotANumber(_))
        ));
        assert_eq!(parse(["--channel-fd", "7"].into_iter()).unwrap(), 7);
    }

    #[test]
    fn only_an_open_stream_socket_is_taken_and_it_is_made_close_on_exec() {
        let file = tempfile::tempfile().unwrap();
        assert!(matches!(
            take(file.as_raw_fd()),
            Err(ChannelFdError::NotASocket(_))
        ));
        assert!(matches!(take(987_654), Err(ChannelFdError::NotASocket(_))));
        let (a, _b) = UnixStream::pair().unwrap();
        let fd = a.into_raw_fd();
        // SAFETY: clearing the flag on a descriptor this test owns.
        unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
        let taken = take(fd).unwrap();
        // SAFETY: reading the flags of a descriptor this test owns.
        let flags = unsafe { libc::fcntl(taken.as_raw_fd(), libc::F_GETFD) };
        assert_ne!(flags & libc::FD_CLOEXEC, 0);
    }
}
