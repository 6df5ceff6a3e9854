//! A TCP stream with write deadlines. hyper bounds the time to read a request head but
//! not the time to write a response, so a client that pipelines requests and never reads
//! the answers would hold its connection (and its buffered responses) forever. Here a
//! write that makes no progress for `write_timeout`, or a response not handed to the
//! kernel in full within `response_timeout`, fails the connection with `TimedOut`.

use std::future::Future;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{sleep, Sleep};

use crate::conns::ConnState;

pub(crate) struct TimedIo {
    inner: TcpStream,
    state: Arc<ConnState>,
    write_timeout: Duration,
    response_timeout: Duration,
    /// Armed while a write waits for the socket; reset by every byte written.
    stall: Option<Pin<Box<Sleep>>>,
    /// Armed by the first write after a flush; disarmed by the next completed flush.
    response: Option<Pin<Box<Sleep>>>,
}

impl TimedIo {
    pub fn new(
        inner: TcpStream,
        state: Arc<ConnState>,
        write_timeout: Duration,
        response_timeout: Duration,
    ) -> TimedIo {
        TimedIo {
            inner,
            state,
            write_timeout,
            response_timeout,
            stall: None,
            response: None,
        }
    }

    /// Runs one write step under both deadlines.
    fn timed<T>(
        &mut self,
        cx: &mut Context<'_>,
        step: impl FnOnce(Pin<&mut TcpStream>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if self.response.is_none() {
            self.response = Some(Box::pin(sleep(self.response_timeout)));
            self.state.writing.store(true, Relaxed);
        }
        match step(Pin::new(&mut self.inner), cx) {
            Poll::Ready(r) => {
                self.stall = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let limit = self.write_timeout;
                let stall = self.stall.get_or_insert_with(|| Box::pin(sleep(limit)));
                let stalled = stall.as_mut().poll(cx).is_ready();
                let late = self
                    .response
                    .as_mut()
                    .is_some_and(|r| r.as_mut().poll(cx).is_ready());
                if stalled || late {
                    let what = if stalled {
                        "the client stopped reading"
                    } else {
                        "the response took too long to send"
                    };
                    return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncRead for TimedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TimedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().timed(cx, |s, cx| s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .timed(cx, |s, cx| s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    /// hyper flushes once its own buffer is empty: the response is with the kernel.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_flush(cx);
        if let (Poll::Ready(Ok(())), Some(_)) = (&r, this.response.take()) {
            this.stall = None;
            this.state.writing.store(false, Relaxed);
            this.state.touch();
        }
        r
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().timed(cx, |s, cx| s.poll_shutdown(cx))
    }
}
