//! The local-filesystem fast paths of the artifact store: spool files written while hashed
//! on a blocking thread (write-back started as the bytes arrive, so the final `fdatasync`
//! waits for the tail only), publishing by hard link and rename (no copy when spool and store
//! share a filesystem), and objects served as slices of a memory map whose pages are dropped
//! from the process once sent.
use bytes::Bytes;
use memmap2::Mmap;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

/// How often (bytes written) a spool writer asks the kernel to start writing back.
const WRITEBACK_EVERY: u64 = 32 << 20;
/// Bytes gathered before one `write`.
const WRITE_BUFFER: usize = 8 << 20;

/// A file written through a [`HashingFile`]: where, its sha256 (hex) and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
}

/// A file being written and hashed in one pass. The caller's thread hashes the bytes and
/// gathers them into [`WRITE_BUFFER`]-sized buffers; a writer thread `write`s full buffers
/// to the file (the page-cache copy overlaps the caller's next computation) and starts
/// write-back every [`WRITEBACK_EVERY`] bytes. At most [`BUFFERS`] buffers exist, recycled, so
/// memory stays bounded and no buffer is freshly faulted after the first few.
pub struct HashingFile {
    path: PathBuf,
    hasher: Sha256,
    buffer: Vec<u8>,
    written: u64,
    /// Full buffers to the writer thread; `None` once finished.
    to_writer: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    /// Emptied buffers back from it.
    recycled: std::sync::mpsc::Receiver<Vec<u8>>,
    /// Buffers created so far (at most [`BUFFERS`]).
    created: usize,
    writer: Option<std::thread::JoinHandle<io::Result<File>>>,
    /// Synced by [`HashingFile::finish`].
    durable: bool,
}

/// Buffers a [`HashingFile`] cycles through.
const BUFFERS: usize = 6;

impl HashingFile {
    /// A new file at `path`. `durable`: it will be synced at the end, so write-back starts as
    /// the bytes arrive (the final sync then waits for the tail only); otherwise the kernel
    /// writes it back when it chooses.
    pub fn create(path: &Path, durable: bool) -> io::Result<Self> {
        let mut file = File::create(path)?;
        let (to_writer, from_caller) = std::sync::mpsc::sync_channel::<Vec<u8>>(BUFFERS);
        let (give_back, recycled) = std::sync::mpsc::channel::<Vec<u8>>();
        let writer = std::thread::Builder::new()
            .name("whittle-write".into())
            .spawn(move || -> io::Result<File> {
                let (mut flushed, mut synced) = (0u64, 0u64);
                while let Ok(mut buf) = from_caller.recv() {
                    file.write_all(&buf)?;
                    flushed += buf.len() as u64;
                    if durable && flushed - synced >= WRITEBACK_EVERY {
                        start_writeback(&file, synced, flushed - synced);
                        synced = flushed;
                    }
                    buf.clear();
                    let _ = give_back.send(buf);
                }
                Ok(file)
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            hasher: Sha256::new(),
            buffer: Vec::with_capacity(WRITE_BUFFER),
            written: 0,
            to_writer: Some(to_writer),
            recycled,
            created: 1,
            writer: Some(writer),
            durable,
        })
    }

    /// Hands the current buffer to the writer thread and takes an empty one.
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let next = match self.recycled.try_recv() {
            Ok(b) => b,
            Err(_) if self.created < BUFFERS => {
                self.created += 1;
                Vec::with_capacity(WRITE_BUFFER)
            }
            Err(_) => match self.recycled.recv() {
                Ok(b) => b,
                Err(_) => return Err(self.writer_failed()),
            },
        };
        let full = std::mem::replace(&mut self.buffer, next);
        let sent = self.to_writer.as_ref().map(|tx| tx.send(full));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err(self.writer_failed()),
        }
    }

    /// The writer thread's error once it has stopped.
    fn writer_failed(&mut self) -> io::Error {
        self.to_writer = None;
        match self.writer.take().map(|h| h.join()) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => io::Error::other("the file writer thread panicked"),
            _ => io::Error::other("the file writer stopped"),
        }
    }

    /// Writes what is buffered, waits for the writer thread, for a durable file waits until
    /// the data is on disk, and returns what was written.
    pub fn finish(mut self) -> io::Result<WrittenFile> {
        self.send_buffer()?;
        self.to_writer = None;
        let file = match self.writer.take().map(|h| h.join()) {
            Some(Ok(r)) => r?,
            _ => return Err(io::Error::other("the file writer thread panicked")),
        };
        if self.durable {
            file.sync_data()?;
        }
        let hasher = std::mem::take(&mut self.hasher);
        Ok(WrittenFile {
            path: std::mem::take(&mut self.path),
            sha256: hex::encode(hasher.finalize()),
            bytes: self.written,
        })
    }
}

impl Drop for HashingFile {
    /// A file dropped without [`HashingFile::finish`] still gets the bytes handed over so far
    /// before the drop returns (as `BufWriter` flushes on drop); errors are lost, as there.
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = self.send_buffer();
            self.to_writer = None;
            if let Some(h) = self.writer.take() {
                let _ = h.join();
            }
        }
    }
}

impl Write for HashingFile {
    fn write(&mut self, mut data: &[u8]) -> io::Result<usize> {
        let n = data.len();
        self.hasher.update(data);
        self.written += n as u64;
        while !data.is_empty() {
            let room = WRITE_BUFFER - self.buffer.len();
            let take = room.min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buffer.len() == WRITE_BUFFER {
                self.send_buffer()?;
            }
        }
        Ok(n)
    }

    /// Hands buffered bytes to the writer thread (they reach the file before `finish`
    /// returns).
    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

/// Asks the kernel to start writing `len` bytes at `offset` back to disk without waiting, so
/// that a later `fdatasync` has little left to do (Linux; elsewhere a no-op).
fn start_writeback(file: &File, offset: u64, len: u64) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain syscall on an open descriptor; failure only loses the head start.
        unsafe {
            libc::sync_file_range(
                file.as_raw_fd(),
                offset as libc::off64_t,
                len as libc::off64_t,
                libc::SYNC_FILE_RANGE_WRITE,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (file, offset, len);
}

/// Puts `src` at `target` atomically: a hard link to a temporary name beside the target
/// renamed over it (a copy when the two are on different filesystems), then the directory
/// synced so the new name survives a crash when `durable`. `src` stays where it is. Returns
/// the size.
pub fn publish(src: &Path, target: &Path, durable: bool) -> io::Result<u64> {
    let dir = target
        .parent()
        .ok_or_else(|| io::Error::other("object path without a parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.publishing", Uuid::now_v7()));
    let linked = std::fs::hard_link(src, &tmp);
    if linked.is_err() {
        // Another filesystem (EXDEV) or no hard links there: copy, durably.
        let copied = std::fs::copy(src, &tmp).and_then(|_| match durable {
            true => File::open(&tmp)?.sync_data(),
            false => Ok(()),
        });
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
    }
    if let Err(e) = std::fs::rename(&tmp, target) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    if durable {
        sync_dir(dir);
    }
    Ok(std::fs::metadata(target)?.len())
}

/// Syncs a directory's entries (a new name in it survives a crash); best effort.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A stored object mapped for serving.
#[derive(Clone)]
pub struct MappedObject {
    map: Option<Arc<Mmap>>,
    pub size: u64,
}

impl MappedObject {
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let size = file.metadata()?.len();
        if size == 0 {
            return Ok(Self { map: None, size });
        }
        // SAFETY: stored objects are immutable: they are published by rename and replaced by
        // rename, never rewritten in place, so the mapped inode's bytes do not change.
        let map = unsafe { Mmap::map(&file) }?;
        let _ = map.advise(memmap2::Advice::Sequential);
        Ok(Self {
            map: Some(Arc::new(map)),
            size,
        })
    }

    /// `range` in chunks of `chunk` bytes; each chunk's pages leave the process when the
    /// chunk is dropped (they stay in the page cache).
    pub fn chunks(&self, range: Range<u64>, chunk: usize) -> impl Iterator<Item = Bytes> {
        let map = self.map.clone();
        let end = range.end.min(self.size) as usize;
        let start = (range.start as usize).min(end);
        (start..end).step_by(chunk.max(1)).filter_map(move |a| {
            let map = map.clone()?;
            let b = (a + chunk).min(end);
            Some(Bytes::from_owner(MapChunk { map, range: a..b }))
        })
    }
}

/// One chunk of a mapped object, handed to the HTTP body without copying.
struct MapChunk {
    map: Arc<Mmap>,
    range: Range<usize>,
}

impl AsRef<[u8]> for MapChunk {
    fn as_ref(&self) -> &[u8] {
        &self.map[self.range.clone()]
    }
}

impl Drop for MapChunk {
    fn drop(&mut self) {
        // Page-aligned inside the chunk: neighbours may still be in flight.
        let page = 4096;
        let start = self.range.start.div_ceil(page) * page;
        let end = self.range.end / page * page;
        let end = if self.range.end == self.map.len() {
            self.range.end
        } else {
            end
        };
        if end > start {
            // SAFETY: the map is read-only and file-backed: MADV_DONTNEED only drops clean
            // pages from this process (later reads fault them back in from the file).
            let _ = unsafe {
                self.map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    start,
                    end - start,
                )
            };
        }
    }
}

/// `path` inside `root` for an object key.
pub fn object_path(root: &Path, key: &str) -> PathBuf {
    root.join(key)
}

/// Bytes under `path` (a file, or a directory's files, recursively).
fn entry_bytes(path: &Path) -> io::Result<u64> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_dir() {
        return Ok(meta.len());
    }
    let mut total = 0;
    for entry in std::fs::read_dir(path)? {
        total += entry_bytes(&entry?.path())?;
    }
    Ok(total)
}

/// Removes the least recently modified top-level entries of `dir` (files, or folders as a
/// whole) until it holds at most `bound` bytes, never `keep`; returns how many went.
pub fn evict_lru(dir: &Path, bound: u64, keep: &Path) -> io::Result<usize> {
    let mut entries = Vec::new();
    let mut total = 0u64;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        // An entry removed meanwhile (another eviction, a delete) is simply skipped.
        let (Ok(bytes), Ok(meta)) = (entry_bytes(&path), std::fs::symlink_metadata(&path)) else {
            continue;
        };
        total += bytes;
        if path != keep {
            let used = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
            entries.push((used, bytes, path));
        }
    }
    entries.sort_by_key(|(used, _, _)| *used);
    let mut evicted = 0;
    for (_, bytes, path) in entries {
        if total <= bound {
            break;
        }
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        if removed.is_ok() {
            total -= bytes;
            evicted += 1;
        }
    }
    Ok(evicted)
}
