// The signalkit panel's script, run by the toolbar each time it shows the
// panel (a module runs once per page; later renders send djdt.panel.render).
//
// The stylesheet: the panel links it itself only when rendered within the
// page. Fetched later (a request picked in History), the panel cannot know
// the nonce of the page showing it, so the stylesheet is linked here, once
// per page, with the nonce of the toolbar's own stylesheet.
//
// Stacks: each distinct stack is listed once at the end of the panel; a
// send's "stack" link shows its stack in place.

const STYLESHEET_ID = "signalkit-stylesheet";

// The toolbar may live in a shadow root (its use_shadow_dom); styles apply
// only within the tree they are linked in.
function toolbarRoot() {
    return document.getElementById("djDebugRoot")?.shadowRoot ?? document;
}

function linkStylesheet() {
    const root = toolbarRoot();
    if (root.getElementById(STYLESHEET_ID)) {
        return;
    }
    const panel = root.getElementById("signalkit-panel");
    const link = document.createElement("link");
    link.id = STYLESHEET_ID;
    link.rel = "stylesheet";
    link.href =
        panel?.dataset.stylesheet ?? new URL("../css/panel.css", import.meta.url).href;
    // Beside the toolbar's own stylesheet, linked with the page's nonce, and
    // outside the panels a History switch replaces.
    const toolbarStylesheet = root.querySelector(
        'link[rel="stylesheet"][href*="debug_toolbar/css/toolbar"]'
    );
    if (toolbarStylesheet) {
        link.nonce = toolbarStylesheet.nonce;
        toolbarStylesheet.after(link);
    } else {
        document.head.appendChild(link);
    }
}

function toggleStack(event) {
    const anchor = event.target.closest("#signalkit-panel a.sk-stk");
    if (!anchor) {
        return;
    }
    event.preventDefault();
    const shown = anchor.nextElementSibling;
    if (shown?.classList.contains("sk-stack")) {
        shown.remove();
        return;
    }
    const stack = toolbarRoot().getElementById(`sk-stack-${anchor.dataset.stack}`);
    if (stack) {
        const copy = stack.cloneNode(true);
        copy.removeAttribute("id");
        anchor.after(copy);
    }
}

linkStylesheet();
const djDebug = toolbarRoot().getElementById("djDebug");
if (djDebug) {
    djDebug.addEventListener("djdt.panel.render", linkStylesheet);
    djDebug.addEventListener("click", toggleStack);
}
