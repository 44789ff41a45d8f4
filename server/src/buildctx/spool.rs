//! Bytes that must wait: in memory up to a limit, then in an unlinked temporary file (gone
//! from the directory at once, freed when closed, whatever happens to the process).

use std::fs::File;
use std::io::{self, BufReader, Cursor, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;

pub struct Spool {
    mem: Vec<u8>,
    file: Option<File>,
    limit: usize,
    dir: PathBuf,
}

impl Spool {
    pub fn new(limit: usize, dir: PathBuf) -> Self {
        Spool {
            mem: Vec::new(),
            file: None,
            limit,
            dir,
        }
    }

    /// Everything written, from the start.
    pub fn into_reader(mut self) -> io::Result<Box<dyn Read + Send>> {
        match self.file.take() {
            Some(mut file) => {
                file.flush()?;
                file.seek(SeekFrom::Start(0))?;
                Ok(Box::new(BufReader::with_capacity(64 << 10, file)))
            }
            None => Ok(Box::new(Cursor::new(self.mem))),
        }
    }
}

impl Write for Spool {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some(file) = self.file.as_mut() {
            return file.write(data);
        }
        if self.mem.len() + data.len() <= self.limit {
            self.mem.extend_from_slice(data);
            return Ok(data.len());
        }
        std::fs::create_dir_all(&self.dir)?;
        let mut file = tempfile::tempfile_in(&self.dir)?;
        file.write_all(&self.mem)?;
        self.mem = Vec::new();
        file.write_all(data)?;
        self.file = Some(file);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spills_past_the_limit_and_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Spool::new(10, dir.path().to_owned());
        s.write_all(b"0123456789").unwrap();
        assert!(s.file.is_none());
        s.write_all(b"abcdef").unwrap();
        assert!(s.file.is_some());
        let mut back = String::new();
        s.into_reader().unwrap().read_to_string(&mut back).unwrap();
        assert_eq!(back, "0123456789abcdef");
        // Unlinked: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
