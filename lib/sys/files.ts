// Files and devices: open (always non-blocking and close-on-exec), readv and
// sendfile. Same rules as every sys module: arguments checked first, -1 for
// "would block", a SystemError for every other failure.
export {};
