// Runs in <head> before the first paint (the wasm app takes over later): applies the stored
// theme and language so a dark-theme user never sees a white flash. A file rather than an
// inline script because the server's Content-Security-Policy allows only 'self' scripts.
// Keys match frontend/src/prefs.rs.
(function () {
  try {
    var theme = localStorage.getItem('berth.theme');
    if (theme === 'dark' || theme === 'light') {
      document.documentElement.setAttribute('data-theme', theme);
    }
    var lang = localStorage.getItem('berth.lang');
    if (lang) document.documentElement.setAttribute('lang', lang);
  } catch (e) { /* storage disabled: follow the OS */ }
})();
