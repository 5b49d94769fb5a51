// Terminals, pseudo-terminals and serial lines: openpty, isatty, ttyname,
// termios as plain objects (speeds in baud), window sizes and the flag
// constants. A serial line is a tty: the same calls configure it.
export {};
