// go asks the console to show another of its pages (app.js routes it).
export function go(href) {
  window.dispatchEvent(new CustomEvent('parley:navigate', { detail: href }));
}
