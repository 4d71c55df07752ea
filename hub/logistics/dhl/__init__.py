"""DHL Express MyDHL API: client (one method per endpoint), pure mapping and the port's adapter."""
