// Linux's event fds: eventfd, timerfd, inotify and pidfd. Where the platform
// lacks one, the call throws ERR_NOT_SUPPORTED naming it and the platform;
// sys.supports(name) says so in advance.
export {};
