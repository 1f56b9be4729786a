"""A page that does nothing: the reference the page timings are divided by (bench/page_timings.py).

It draws one header, so that a browser has something to wait for; the rest of its cost is
Streamlit's own (importing it, starting a session, one script run).
"""

import streamlit as st

st.header("A page that does nothing")
