"""What the tests share, in one place: paths to the shared data (`paths`), builders of papers and
submissions (`factories`), fakes (`fakes`), a local HTTP server with recorded replies
(`recorded_server`), a throwaway PostgreSQL server (`pg`), free ports (`net`) and the data and
helpers of the web, API and digest tests (`web`, `api`, `digest`).

Nothing here is collected as a test (no ``test_*`` names), and test modules and conftest files
import shared things only from here, never from one another.
"""
