// The two views as WAI-ARIA tabs: click, or Left/Right/Home/End on the tab list; the URL's hash
// (#explore, #train) opens a view and follows the choice.

export function setupTabs(root = document) {
  const tabs = [...root.querySelectorAll('[role="tab"]')];
  const select = (tab, focus = true) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute('aria-controls')).hidden = !on;
    }
    if (focus) tab.focus();
    const id = tab.getAttribute('aria-controls');
    if (location.hash !== `#${id}`) history.replaceState(null, '', `#${id}`);
  };
  for (const t of tabs) {
    t.addEventListener('click', () => select(t));
    t.addEventListener('keydown', (e) => {
      const i = tabs.indexOf(t);
      const to = { ArrowRight: tabs[(i + 1) % tabs.length], ArrowLeft: tabs[(i - 1 + tabs.length) % tabs.length], Home: tabs[0], End: tabs[tabs.length - 1] }[e.key];
      if (to) {
        e.preventDefault();
        select(to);
      }
    });
  }
  const fromHash = tabs.find((t) => `#${t.getAttribute('aria-controls')}` === location.hash);
  if (fromHash) select(fromHash, false);
  return { show: (id) => select(tabs.find((t) => t.getAttribute('aria-controls') === id)) };
}
